// Package wiretest holds the malformed queries every server role must answer
// the same way, with the answer each gets. The authoritative and the
// recursive handler's tests both run them (they cannot import each other),
// so one table pins both roles to one behaviour.
package wiretest

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/wire"
)

// Case is one query and the reply every role gives it.
type Case struct {
	Name  string
	Query []byte
	// Drop: no reply at all. Otherwise the reply has Rcode (extended
	// rcodes included), the query's ID, opcode, RD and CD, and no records.
	Drop  bool
	Rcode int
	// Question: the question is echoed (QDCOUNT 1, original case).
	Question bool
	// OPT: the reply carries an OPT record (version 0, our buffer size),
	// with DO as in the query.
	OPT, DO bool
}

func pack(m *dns.Msg) []byte {
	b, err := m.Pack()
	if err != nil {
		panic("wiretest: " + err.Error())
	}
	return b
}

func query(edit func(m *dns.Msg)) []byte {
	m := new(dns.Msg)
	m.SetQuestion("Www.Example.TEST.", dns.TypeA)
	m.Id = 0xBEEF
	m.RecursionDesired = true
	m.CheckingDisabled = true
	if edit != nil {
		edit(m)
	}
	return pack(m)
}

func edns(do bool) func(m *dns.Msg) {
	return func(m *dns.Msg) { m.SetEdns0(1232, do) }
}

func patch(b []byte, f func(b []byte) []byte) []byte {
	return f(append([]byte(nil), b...))
}

// Malformed returns the cases. Choices where NSD and Unbound differ are
// explained in internal/wire/doc.go.
func Malformed() []Case {
	plain := query(nil)
	withOPT := query(edns(true))
	opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT, Class: 1232}}
	long := append([]byte(nil), plain[:wire.HeaderLen]...)
	for range 5 { // 5 labels of 63: 320 bytes, beyond 255 (RFC 1035 3.1)
		long = append(long, 63)
		long = append(long, bytes.Repeat([]byte{'a'}, 63)...)
	}
	long = append(long, 0, 0, 1, 0, 1)
	return []Case{
		{Name: "shorter than a header", Query: plain[:11], Drop: true},
		{Name: "response", Query: query(func(m *dns.Msg) { m.Response = true }), Drop: true},
		{Name: "header only, QDCOUNT 1", Query: plain[:wire.HeaderLen], Rcode: dns.RcodeFormatError},
		{Name: "cut in the question's class", Query: plain[:len(plain)-1], Rcode: dns.RcodeFormatError},
		{Name: "cut in the OPT record", Query: withOPT[:len(withOPT)-1], Rcode: dns.RcodeFormatError, Question: true},
		{Name: "ANCOUNT promises a record", Query: patch(plain, func(b []byte) []byte { b[7] = 1; return b }),
			Rcode: dns.RcodeFormatError, Question: true},
		{Name: "trailing record not counted, junk in between", Query: patch(plain, func(b []byte) []byte { b[11] = 1; return append(b, 0xff, 0xff) }),
			Rcode: dns.RcodeFormatError, Question: true},
		{Name: "no question", Query: query(func(m *dns.Msg) { m.Question = nil }), Rcode: dns.RcodeFormatError},
		{Name: "no question, EDNS", Query: query(func(m *dns.Msg) { m.Question = nil; m.SetEdns0(1232, true) }),
			Rcode: dns.RcodeFormatError, OPT: true, DO: true},
		{Name: "two questions", Query: query(func(m *dns.Msg) {
			m.Question = append(m.Question, dns.Question{Name: "b.test.", Qtype: dns.TypeA, Qclass: dns.ClassINET})
		}), Rcode: dns.RcodeFormatError},
		{Name: "two OPT records", Query: query(func(m *dns.Msg) { m.SetEdns0(1232, true); m.Extra = append(m.Extra, opt) }),
			Rcode: dns.RcodeFormatError, Question: true},
		{Name: "OPT in the answer section", Query: query(func(m *dns.Msg) { m.Answer = append(m.Answer, opt) }),
			Rcode: dns.RcodeFormatError, Question: true},
		{Name: "OPT not owned by the root", Query: query(func(m *dns.Msg) {
			m.Extra = append(m.Extra, &dns.OPT{Hdr: dns.RR_Header{Name: "test.", Rrtype: dns.TypeOPT, Class: 1232}})
		}), Rcode: dns.RcodeFormatError, Question: true},
		{Name: "compressed question name", Query: patch(plain[:wire.HeaderLen], func(b []byte) []byte { return append(b, 0xC0, 0, 0, 1, 0, 1) }),
			Rcode: dns.RcodeFormatError},
		{Name: "reserved label type", Query: patch(plain, func(b []byte) []byte { b[wire.HeaderLen] = 0x43; return b }),
			Rcode: dns.RcodeFormatError},
		{Name: "name longer than 255 bytes", Query: long, Rcode: dns.RcodeFormatError},
		{Name: "bad RDATA in the additional section", Query: patch(plain, func(b []byte) []byte {
			b[11] = 1 // an A record of 3 bytes: the walk passes, unpacking does not
			return append(b, 0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 3, 1, 2, 3)
		}), Rcode: dns.RcodeFormatError, Question: true},
		{Name: "opcode STATUS", Query: query(func(m *dns.Msg) { m.Opcode = dns.OpcodeStatus }),
			Rcode: dns.RcodeNotImplemented, Question: true},
		{Name: "opcode UPDATE with EDNS", Query: query(func(m *dns.Msg) { m.Opcode = dns.OpcodeUpdate; m.SetEdns0(1232, true) }),
			Rcode: dns.RcodeNotImplemented, Question: true, OPT: true, DO: true},
		{Name: "opcode NOTIFY", Query: query(func(m *dns.Msg) { m.Opcode = dns.OpcodeNotify }),
			Rcode: dns.RcodeNotImplemented, Question: true},
		{Name: "opcode STATUS, no question", Query: query(func(m *dns.Msg) { m.Opcode = dns.OpcodeStatus; m.Question = nil }),
			Rcode: dns.RcodeNotImplemented},
		{Name: "EDNS version 1", Query: query(func(m *dns.Msg) { m.SetEdns0(1232, true); m.IsEdns0().SetVersion(1) }),
			Rcode: dns.RcodeBadVers, Question: true, OPT: true, DO: true},
		{Name: "EDNS version 1, two questions", Query: query(func(m *dns.Msg) {
			m.Question = append(m.Question, m.Question[0])
			m.SetEdns0(1232, false)
			m.IsEdns0().SetVersion(1)
		}), Rcode: dns.RcodeFormatError, OPT: true},
		{Name: "EDNS version 1, opcode STATUS", Query: query(func(m *dns.Msg) {
			m.Opcode = dns.OpcodeStatus
			m.SetEdns0(1232, false)
			m.IsEdns0().SetVersion(1)
		}), Rcode: dns.RcodeNotImplemented, Question: true, OPT: true},
	}
}

// Check fails t unless reply is what c says every role answers.
func (c Case) Check(t testing.TB, reply []byte) {
	t.Helper()
	if c.Drop {
		if reply != nil {
			t.Fatalf("%s: want no reply, got %x", c.Name, reply)
		}
		return
	}
	if reply == nil {
		t.Fatalf("%s: no reply", c.Name)
	}
	var m dns.Msg
	if err := m.Unpack(reply); err != nil {
		t.Fatalf("%s: reply does not unpack: %v (%x)", c.Name, err, reply)
	}
	q := c.Query
	flags := binary.BigEndian.Uint16(q[2:])
	wantFlags := wire.FlagQR | flags&(0xF<<11|wire.FlagRD|wire.FlagCD) | uint16(c.Rcode&0xF)
	if got := binary.BigEndian.Uint16(reply[2:]); got != wantFlags {
		t.Errorf("%s: flags %016b, want %016b", c.Name, got, wantFlags)
	}
	if m.Id != binary.BigEndian.Uint16(q) || m.Rcode != c.Rcode {
		t.Errorf("%s: ID %#x rcode %s, want %#x %s", c.Name, m.Id, dns.RcodeToString[m.Rcode],
			binary.BigEndian.Uint16(q), dns.RcodeToString[c.Rcode])
	}
	if got := len(m.Question) == 1 && m.Question[0].Name == "Www.Example.TEST." && m.Question[0].Qtype == dns.TypeA; got != c.Question || len(m.Question) > 1 {
		t.Errorf("%s: question %v, want echoed %v", c.Name, m.Question, c.Question)
	}
	o := m.IsEdns0()
	if (o != nil) != c.OPT {
		t.Errorf("%s: OPT %v, want %v", c.Name, o, c.OPT)
	} else if o != nil && (o.Do() != c.DO || o.Version() != 0 || o.UDPSize() != wire.DefaultEDNSSize || len(o.Option) != 0) {
		t.Errorf("%s: OPT %v", c.Name, o)
	}
	if n := len(m.Answer) + len(m.Ns) + len(m.Extra); n > 1 || n == 1 && o == nil {
		t.Errorf("%s: records in an error reply: %v", c.Name, &m)
	}
}
