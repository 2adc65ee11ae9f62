package wire

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// walked is Peek without the straight-line path: the general walk alone,
// which the fast path must agree with byte for byte.
func walked(msg []byte) (q Query, err error) {
	if len(msg) < HeaderLen {
		return q, ErrHeader
	}
	q.ID = binary.BigEndian.Uint16(msg)
	q.Flags = binary.BigEndian.Uint16(msg[2:])
	q.QDCount = binary.BigEndian.Uint16(msg[4:])
	q.ANCount = binary.BigEndian.Uint16(msg[6:])
	q.NSCount = binary.BigEndian.Uint16(msg[8:])
	q.ARCount = binary.BigEndian.Uint16(msg[10:])
	switch {
	case q.Flags&FlagQR != 0:
		return q, ErrResponse
	case len(msg) > MaxMsgSize:
		return q, ErrFormat
	}
	if e := q.walk(msg); e != 0 {
		return q, e
	}
	switch {
	case q.Opcode() != 0:
		return q, ErrOpcode
	case q.QDCount != 1:
		return q, ErrQuestion
	case q.EDNS && q.Version != 0:
		return q, ErrVersion
	}
	return q, nil
}

// plainCases are queries of the shape plain reads, and near misses it must
// hand to the walk.
func plainCases(t testing.TB) map[string][]byte {
	t.Helper()
	out := make(map[string][]byte)
	q := func(name string, edit func(m *dns.Msg)) {
		m := new(dns.Msg)
		m.SetQuestion("www.Example.com.", dns.TypeA)
		if edit != nil {
			edit(m)
		}
		out[name] = packed(t, m)
	}
	q("no EDNS", nil)
	q("EDNS", func(m *dns.Msg) { m.SetEdns0(1232, true) })
	q("EDNS version 1", func(m *dns.Msg) { m.SetEdns0(1232, false); m.IsEdns0().SetVersion(1) })
	q("EDNS options", func(m *dns.Msg) {
		m.SetEdns0(4096, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, &dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"})
	})
	q("root", func(m *dns.Msg) { m.Question[0].Name = "." })
	q("longest name", func(m *dns.Msg) { m.Question[0].Name = strings.Repeat("a.", 127) })
	q("notify", func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify })
	q("additional A", func(m *dns.Msg) {
		m.Extra = append(m.Extra, &dns.A{Hdr: dns.RR_Header{Name: "a.", Rrtype: dns.TypeA, Class: dns.ClassINET}})
	})
	q("OPT not at root", func(m *dns.Msg) {
		m.SetEdns0(1232, false)
		m.IsEdns0().Hdr.Name = "a."
	})
	for name, b := range map[string][]byte{"EDNS": out["EDNS"], "EDNS options": out["EDNS options"]} {
		out[name+" cut"] = b[:len(b)-1]
		out[name+" trailing"] = append(append([]byte(nil), b...), 0)
	}
	b := out["no EDNS"]
	out["question cut"] = b[:len(b)-2]
	long := append([]byte(nil), b[:HeaderLen]...)
	for range 130 {
		long = append(long, 1, 'a')
	}
	out["name too long"] = append(long, 0, 0, 1, 0, 1)
	bad := append([]byte(nil), b...)
	bad[HeaderLen] = 0x41
	out["reserved label"] = bad
	return out
}

func TestPeekPlainAgreesWithWalk(t *testing.T) {
	for name, msg := range plainCases(t) {
		got, gerr := Peek(msg)
		want, werr := walked(msg)
		if got != want || gerr != werr {
			t.Errorf("%s: Peek %+v, %v; walk %+v, %v", name, got, gerr, want, werr)
		}
	}
}

// FuzzPeekPlain checks the straight-line path against the general walk on
// any input: the same Query and the same error.
func FuzzPeekPlain(f *testing.F) {
	for _, msg := range plainCases(f) {
		f.Add(msg)
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		got, gerr := Peek(msg)
		want, werr := walked(msg)
		if got != want || gerr != werr {
			t.Fatalf("%x: Peek %+v, %v; walk %+v, %v", msg, got, gerr, want, werr)
		}
	})
}
