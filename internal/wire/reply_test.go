package wire

import (
	"bytes"
	"testing"

	"github.com/miekg/dns"
)

func packed(t testing.TB, m *dns.Msg) []byte {
	t.Helper()
	b, err := m.Pack()
	if err != nil {
		t.Fatalf("pack: %v", err)
	}
	return b
}

func TestErrorReply(t *testing.T) {
	plain := new(dns.Msg)
	plain.SetQuestion("Example.COM.", dns.TypeAAAA)
	plain.Id = 0xBEEF
	plain.CheckingDisabled = true

	edns := plain.Copy()
	edns.SetEdns0(4096, true)

	noRD := plain.Copy()
	noRD.RecursionDesired = false
	noRD.Opcode = dns.OpcodeNotify

	twoQ := plain.Copy()
	twoQ.Question = append(twoQ.Question, dns.Question{Name: "b.", Qtype: dns.TypeA, Qclass: dns.ClassINET})

	twoOPT := edns.Copy()
	twoOPT.Extra = append(twoOPT.Extra, &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: 512}})

	resp := plain.Copy()
	resp.Response = true

	tests := []struct {
		name     string
		query    []byte
		rcode    int
		wantNil  bool
		wantQ    bool
		wantOPT  bool
		wantDO   bool
		wantRD   bool
		wantCode int
		opcode   int
	}{
		{name: "plain formerr", query: packed(t, plain), rcode: dns.RcodeFormatError, wantQ: true, wantRD: true, wantCode: dns.RcodeFormatError},
		{name: "edns servfail", query: packed(t, edns), rcode: dns.RcodeServerFailure, wantQ: true, wantOPT: true, wantDO: true, wantRD: true, wantCode: dns.RcodeServerFailure},
		{name: "edns badvers", query: packed(t, edns), rcode: dns.RcodeBadVers, wantQ: true, wantOPT: true, wantDO: true, wantRD: true, wantCode: dns.RcodeBadVers},
		{name: "extended rcode without edns", query: packed(t, plain), rcode: dns.RcodeBadVers, wantQ: true, wantRD: true, wantCode: dns.RcodeServerFailure},
		{name: "notify refused", query: packed(t, noRD), rcode: dns.RcodeRefused, wantQ: true, wantCode: dns.RcodeRefused, opcode: dns.OpcodeNotify},
		{name: "two questions", query: packed(t, twoQ), rcode: dns.RcodeFormatError, wantRD: true, wantCode: dns.RcodeFormatError},
		{name: "two OPT", query: packed(t, twoOPT), rcode: dns.RcodeFormatError, wantQ: true, wantRD: true, wantCode: dns.RcodeFormatError},
		{name: "header only", query: packed(t, plain)[:12], rcode: dns.RcodeFormatError, wantRD: true, wantCode: dns.RcodeFormatError},
		{name: "truncated question", query: packed(t, plain)[:20], rcode: dns.RcodeFormatError, wantRD: true, wantCode: dns.RcodeFormatError},
		{name: "short", query: packed(t, plain)[:11], rcode: dns.RcodeFormatError, wantNil: true},
		{name: "response", query: packed(t, resp), rcode: dns.RcodeFormatError, wantNil: true},
		{name: "empty", query: nil, rcode: dns.RcodeFormatError, wantNil: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prefix := []byte("keep")
			got := ErrorReply(tt.query, tt.rcode, prefix)
			if tt.wantNil {
				if got != nil {
					t.Fatalf("got %x, want nil", got)
				}
				return
			}
			if !bytes.HasPrefix(got, []byte("keep")) {
				t.Fatalf("reply does not append to out: %q", got[:4])
			}
			var m dns.Msg
			if err := m.Unpack(got[4:]); err != nil {
				t.Fatalf("reply does not parse: %v (%x)", err, got)
			}
			if m.Id != 0xBEEF || !m.Response || m.Opcode != tt.opcode || m.RecursionDesired != tt.wantRD || !m.CheckingDisabled {
				t.Errorf("header: %+v", m.MsgHdr)
			}
			if m.Rcode != tt.wantCode {
				t.Errorf("rcode %s, want %s", dns.RcodeToString[m.Rcode], dns.RcodeToString[tt.wantCode])
			}
			if gotQ := len(m.Question) == 1; gotQ != tt.wantQ {
				t.Fatalf("question echoed %v, want %v", gotQ, tt.wantQ)
			}
			if tt.wantQ && (m.Question[0].Name != "Example.COM." || m.Question[0].Qtype != dns.TypeAAAA) {
				t.Errorf("question %v: case or type not preserved", m.Question[0])
			}
			opt := m.IsEdns0()
			if (opt != nil) != tt.wantOPT {
				t.Fatalf("OPT present %v, want %v", opt != nil, tt.wantOPT)
			}
			if opt != nil && (opt.Do() != tt.wantDO || opt.UDPSize() != DefaultEDNSSize || opt.Version() != 0) {
				t.Errorf("OPT %v", opt)
			}
			if len(m.Answer)+len(m.Ns) != 0 {
				t.Errorf("unexpected records: %v", &m)
			}
		})
	}
}

func TestErrorReplyNameLimit(t *testing.T) {
	// 255 bytes of name is the limit (RFC 1035 3.1); 257 is beyond it.
	q := []byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0}
	long := append([]byte(nil), q...)
	for i := 0; i < 5; i++ {
		long = append(long, 63)
		long = append(long, bytes.Repeat([]byte{'a'}, 63)...)
	}
	long = append(long, 0, 0, 1, 0, 1)
	var m dns.Msg
	if err := m.Unpack(ErrorReply(long, dns.RcodeFormatError, nil)); err != nil {
		t.Fatal(err)
	}
	if len(m.Question) != 0 {
		t.Errorf("a 321-byte name was echoed")
	}
}

func BenchmarkErrorReply(b *testing.B) {
	q := new(dns.Msg)
	q.SetQuestion("www.example.com.", dns.TypeA)
	q.SetEdns0(1232, true)
	wire := packed(b, q)
	out := make([]byte, 0, MaxMsgSize)
	b.ReportAllocs()
	for b.Loop() {
		out = ErrorReply(wire, dns.RcodeServerFailure, out[:0])
	}
}

// FuzzErrorReply checks that any input yields nil or a reply that parses,
// answers the same ID and never exceeds header + question + OPT.
func FuzzErrorReply(f *testing.F) {
	m := new(dns.Msg)
	m.SetQuestion("example.org.", dns.TypeMX)
	f.Add(packed(f, m))
	m.SetEdns0(1232, false)
	f.Add(packed(f, m))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 41, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, q []byte) {
		r := ErrorReply(q, dns.RcodeFormatError, nil)
		if r == nil {
			if len(q) >= HeaderLen && q[2]&0x80 == 0 {
				t.Fatalf("no reply to a %d-byte query", len(q))
			}
			return
		}
		if len(r) > HeaderLen+maxNameLen+4+11 {
			t.Fatalf("reply of %d bytes", len(r))
		}
		var m dns.Msg
		if err := m.Unpack(r); err != nil {
			t.Fatalf("reply does not parse: %v\nquery %x\nreply %x", err, q, r)
		}
		if !bytes.Equal(r[:2], q[:2]) || !m.Response || m.Rcode != dns.RcodeFormatError {
			t.Fatalf("bad reply header %+v", m.MsgHdr)
		}
	})
}

func TestComplete(t *testing.T) {
	m := new(dns.Msg)
	m.SetQuestion("a.example.", dns.TypeA)
	m.SetEdns0(1232, false)
	good := packed(t, m)
	lying := append([]byte(nil), good...)
	lying[7] = 1 // ANCOUNT 1, no answer present
	tests := []struct {
		name string
		msg  []byte
		want bool
	}{
		{"whole", good, true},
		{"trailing byte", append(append([]byte(nil), good...), 0), true},
		{"header only, counts say more", good[:12], false},
		{"empty message", make([]byte, 12), true},
		{"short header", good[:11], false},
		{"cut in question class", good[:12+len("\x01a\x07example\x00")+3], false},
		{"cut in OPT", good[:len(good)-1], false},
		{"count lies", lying, false},
	}
	for _, tt := range tests {
		if got := Complete(tt.msg); got != tt.want {
			t.Errorf("%s: Complete = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// FuzzComplete checks Complete never panics and accepts everything it
// builds itself.
func FuzzComplete(f *testing.F) {
	m := new(dns.Msg)
	m.SetQuestion("example.org.", dns.TypeMX)
	m.SetEdns0(1232, false)
	f.Add(packed(f, m))
	f.Fuzz(func(t *testing.T, msg []byte) {
		ok := Complete(msg)
		if r := ErrorReply(msg, dns.RcodeFormatError, nil); r != nil && !Complete(r) {
			t.Fatalf("ErrorReply output %x is not complete", r)
		}
		_ = ok
	})
}

func TestErrorReplyEDE(t *testing.T) {
	for _, edns := range []bool{false, true} {
		q := new(dns.Msg)
		q.SetQuestion("example.com.", dns.TypeA)
		if edns {
			q.SetEdns0(1232, true)
		}
		wireQ, err := q.Pack()
		if err != nil {
			t.Fatal(err)
		}
		b := ErrorReplyEDE(wireQ, dns.RcodeRefused, dns.ExtendedErrorCodeProhibited, "client not allowed", nil)
		var m dns.Msg
		if err := m.Unpack(b); err != nil {
			t.Fatalf("edns=%v: %v", edns, err)
		}
		if m.Rcode != dns.RcodeRefused || m.Id != q.Id || len(m.Question) != 1 {
			t.Fatalf("edns=%v: %v", edns, &m)
		}
		opt := m.IsEdns0()
		if !edns {
			if opt != nil {
				t.Fatalf("OPT in a reply to a query without EDNS: %v", &m)
			}
			continue
		}
		if opt == nil || len(opt.Option) != 1 || !opt.Do() {
			t.Fatalf("OPT %v", opt)
		}
		e, ok := opt.Option[0].(*dns.EDNS0_EDE)
		if !ok || e.InfoCode != dns.ExtendedErrorCodeProhibited || e.ExtraText != "client not allowed" {
			t.Fatalf("EDE %v", opt.Option[0])
		}
	}
}
