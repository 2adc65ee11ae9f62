package wire

import (
	"bytes"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestPeek(t *testing.T) {
	m := new(dns.Msg)
	m.SetQuestion("WwW.Example.TEST.", dns.TypeAAAA)
	m.Id = 0x1234
	m.CheckingDisabled = true
	m.AuthenticatedData = true
	m.SetEdns0(4096, true)
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_NSID{Code: dns.EDNS0NSID})
	w := packed(t, m)
	q, err := Peek(w)
	if err != nil {
		t.Fatal(err)
	}
	if q.ID != 0x1234 || !q.RD() || !q.CD() || !q.AD() || q.Opcode() != 0 || q.QDCount != 1 || q.ARCount != 1 {
		t.Errorf("header %+v", q)
	}
	if string(q.Name(w)) != "\x03WwW\x07Example\x04TEST\x00" || q.Type != dns.TypeAAAA || q.Class != dns.ClassINET {
		t.Errorf("question %q %d %d", q.Name(w), q.Type, q.Class)
	}
	if !bytes.Equal(q.Question(w), w[HeaderLen:HeaderLen+len("\x03WwW\x07Example\x04TEST\x00")+4]) {
		t.Errorf("question span %x", q.Question(w))
	}
	if !q.EDNS || q.UDPSize != 4096 || q.Version != 0 || !q.DO() || q.UDPLimit(DefaultEDNSSize) != DefaultEDNSSize {
		t.Errorf("EDNS %+v", q)
	}
	if !bytes.Equal(q.Options(w), []byte{0, 3, 0, 0}) { // NSID, empty (RFC 5001 2.1)
		t.Errorf("options %x", q.Options(w))
	}
	if !q.Plain(w) || int(q.End) != len(w) {
		t.Errorf("Plain false for %+v", q)
	}

	m.Extra = nil
	w = packed(t, m)
	if q, err = Peek(w); err != nil || q.EDNS || q.DO() || q.UDPLimit(DefaultEDNSSize) != MinUDPSize || !q.Plain(w) {
		t.Errorf("no EDNS: %+v %v", q, err)
	}
	if q.Plain(append(w, 0)) {
		t.Error("trailing byte is Plain")
	}
	m.Question[0].Qclass = dns.ClassCHAOS
	w = packed(t, m)
	if q, err = Peek(w); err != nil || q.Plain(w) {
		t.Errorf("class CH: %+v %v", q, err)
	}
}

func TestPeekErrors(t *testing.T) {
	base := func() *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion("a.example.", dns.TypeA)
		return m
	}
	opt := func() *dns.OPT { return &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}} }
	good := packed(t, base())
	tests := []struct {
		name string
		msg  []byte
		want error
	}{
		{"ok", good, nil},
		{"short", good[:11], ErrHeader},
		{"response", func() []byte { m := base(); m.Response = true; return packed(t, m) }(), ErrResponse},
		{"cut", good[:len(good)-1], ErrFormat},
		{"count lies", func() []byte { b := bytes.Clone(good); b[7] = 1; return b }(), ErrFormat},
		{"compressed question", append(bytes.Clone(good[:HeaderLen]), 0xC0, 0, 0, 1, 0, 1), ErrFormat},
		{"two OPT", func() []byte { m := base(); m.Extra = []dns.RR{opt(), opt()}; return packed(t, m) }(), ErrOPT},
		{"OPT in authority", func() []byte { m := base(); m.Ns = []dns.RR{opt()}; return packed(t, m) }(), ErrOPT},
		{"two OPT, cut", func() []byte {
			m := base()
			m.Extra = []dns.RR{opt(), opt()}
			b := packed(t, m)
			return b[:len(b)-1]
		}(), ErrFormat},
		{"notify", func() []byte { m := base(); m.Opcode = dns.OpcodeNotify; return packed(t, m) }(), ErrOpcode},
		{"notify, two OPT", func() []byte {
			m := base()
			m.Opcode = dns.OpcodeNotify
			m.Extra = []dns.RR{opt(), opt()}
			return packed(t, m)
		}(), ErrOPT},
		{"no question", func() []byte { m := base(); m.Question = nil; return packed(t, m) }(), ErrQuestion},
		{"version 1", func() []byte { m := base(); m.SetEdns0(512, false); m.IsEdns0().SetVersion(1); return packed(t, m) }(), ErrVersion},
		{"version 1, two questions", func() []byte {
			m := base()
			m.Question = append(m.Question, m.Question[0])
			m.SetEdns0(512, false)
			m.IsEdns0().SetVersion(1)
			return packed(t, m)
		}(), ErrQuestion},
	}
	for _, tt := range tests {
		if _, err := Peek(tt.msg); err != tt.want {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
	if ErrFormat.Rcode() != dns.RcodeFormatError || ErrVersion.Rcode() != dns.RcodeBadVers || ErrResponse.Rcode() != -1 {
		t.Error("Error.Rcode")
	}
}

func TestSkipName(t *testing.T) {
	long := strings.Repeat("\x3f"+strings.Repeat("a", 63), 3) + "\x3d" + strings.Repeat("a", 61) // 254 bytes
	tests := []struct {
		name string
		in   string
		off  int
		want int
	}{
		{"root", "\x00", 0, 1},
		{"label", "\x01a\x00", 0, 3},
		{"pointer", "\x01a\xc0\x00", 0, 4},
		{"cut pointer", "\x01a\xc0", 0, -1},
		{"cut label", "\x03ab", 0, -1},
		{"reserved", "\x41a\x00", 0, -1},
		{"255 bytes", long + "\x00", 0, 255},
		{"256 bytes", long + "\x01a\x00", 0, -1},
		{"at offset", "xx\x01a\x00", 2, 5},
	}
	for _, tt := range tests {
		if got := SkipName([]byte(tt.in), tt.off); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

func BenchmarkPeek(b *testing.B) {
	q := new(dns.Msg)
	q.SetQuestion("www.example.com.", dns.TypeA)
	q.SetEdns0(1232, true)
	w := packed(b, q)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Peek(w); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzPeek checks Peek against miekg/dns: a message Peek accepts unpacks
// with the same question, EDNS and section counts (unless its RDATA is
// what Peek does not look into), and Peek never panics or reads outside
// msg.
func FuzzPeek(f *testing.F) {
	m := new(dns.Msg)
	m.SetQuestion("Example.org.", dns.TypeMX)
	f.Add(packed(f, m))
	m.SetEdns0(1232, true)
	m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
	f.Add(packed(f, m))
	m.Answer = append(m.Answer, &dns.A{Hdr: dns.RR_Header{Name: "example.org.", Rrtype: dns.TypeA, Class: dns.ClassINET}})
	f.Add(packed(f, m))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 41, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, msg []byte) {
		q, err := Peek(msg)
		complete := Complete(msg)
		if err == nil && !complete {
			t.Fatalf("Peek accepts what Complete rejects: %x", msg)
		}
		if q.NameEnd != 0 && (q.NameEnd <= HeaderLen || q.QuestionEnd != q.NameEnd+4 || int(q.QuestionEnd) > len(msg)) {
			t.Fatalf("question span %d..%d of %d", q.NameEnd, q.QuestionEnd, len(msg))
		}
		if q.EDNS && (q.OptionsStart > q.OptionsEnd || int(q.OptionsEnd) > len(msg)) {
			t.Fatalf("options span %d..%d of %d", q.OptionsStart, q.OptionsEnd, len(msg))
		}
		if err != nil {
			return
		}
		var d dns.Msg
		if d.Unpack(msg) != nil {
			return // RDATA Peek does not read; the roles' slow paths answer FORMERR
		}
		if len(d.Question) != 1 || d.Id != q.ID || d.Opcode != q.Opcode() ||
			len(d.Answer) != int(q.ANCount) || len(d.Ns) != int(q.NSCount) || len(d.Extra) != int(q.ARCount) {
			t.Fatalf("header: miekg %+v, Peek %+v", d.MsgHdr, q)
		}
		dq := d.Question[0]
		if !bytes.Equal(packName(dq.Name), q.Name(msg)) || dq.Qtype != q.Type || dq.Qclass != q.Class {
			t.Fatalf("question: miekg %v, Peek %q %d %d", dq, q.Name(msg), q.Type, q.Class)
		}
		o := d.IsEdns0()
		if (o != nil) != q.EDNS {
			t.Fatalf("EDNS: miekg %v, Peek %v", o, q.EDNS)
		}
		if o != nil && (o.UDPSize() != q.UDPSize || o.Version() != q.Version || o.Do() != q.DO() ||
			uint8(o.Hdr.Ttl>>24) != q.ExtRcode) {
			t.Fatalf("OPT: miekg %v, Peek %+v", o, q)
		}
	})
}

// packName is the uncompressed wire form of a presentation name.
func packName(s string) []byte {
	b := make([]byte, 256)
	n, err := dns.PackDomainName(s, b, 0, nil, false)
	if err != nil {
		return nil
	}
	return b[:n]
}

// TestPeekTSIG: a signed query's TSIG is found as the last additional
// record (after the OPT), is not Plain (the fast paths must not answer
// it unsigned), and a TSIG anywhere else is malformed (RFC 8945 5.1).
func TestPeekTSIG(t *testing.T) {
	tsig := func() dns.RR {
		return &dns.TSIG{Hdr: dns.RR_Header{Name: "key.", Rrtype: dns.TypeTSIG, Class: dns.ClassANY},
			Algorithm: "hmac-sha256.", Fudge: 300, MACSize: 2, MAC: "abcd"}
	}
	m := new(dns.Msg)
	m.SetQuestion("example.test.", dns.TypeSOA)
	m.SetEdns0(1232, false)
	m.Extra = append(m.Extra, tsig())
	w := packed(t, m)
	q, err := Peek(w)
	if err != nil {
		t.Fatal(err)
	}
	if q.TSIG == 0 || w[q.TSIG] != 3 || string(w[q.TSIG+1:q.TSIG+4]) != "key" || !q.EDNS || q.Plain(w) {
		t.Fatalf("signed query peeked as %+v", q)
	}
	// NOTIFY with a TSIG: ErrOpcode, TSIG still found.
	m.Opcode = dns.OpcodeNotify
	if q, err := Peek(packed(t, m)); err != ErrOpcode || q.TSIG == 0 {
		t.Fatalf("signed NOTIFY: %v, TSIG at %d", err, q.TSIG)
	}
	m.Opcode = dns.OpcodeQuery
	m.Extra = []dns.RR{tsig(), m.Extra[0]} // TSIG before the OPT
	if _, err := Peek(packed(t, m)); err != ErrFormat {
		t.Fatalf("TSIG not last: %v, want ErrFormat", err)
	}
	m.Extra = nil
	m.Answer = []dns.RR{tsig()}
	if _, err := Peek(packed(t, m)); err != ErrFormat {
		t.Fatalf("TSIG in the answer section: %v, want ErrFormat", err)
	}
	m.Answer = nil
	if q, err := Peek(packed(t, m)); err != nil || q.TSIG != 0 {
		t.Fatalf("unsigned: %v %d", err, q.TSIG)
	}
}
