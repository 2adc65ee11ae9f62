package e2e

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// query is one message to send to every server, as raw wire, so that odd
// and malformed messages go out exactly as built.
type query struct {
	group string // which part of the matrix it belongs to, for the figures
	label string // readable description for diffs
	wire  []byte
	tcp   bool
}

// matrixTypes are asked for every name in the zones.
var matrixTypes = []uint16{
	dns.TypeA, dns.TypeAAAA, dns.TypeNS, dns.TypeSOA, dns.TypeMX, dns.TypeTXT,
	dns.TypeCNAME, dns.TypeDNAME, dns.TypeDS, dns.TypeSRV, dns.TypeANY,
	dns.TypePTR, 65534, dns.TypeCAA,
}

// nxTypes are asked for a non-existent name below every name.
var nxTypes = []uint16{dns.TypeA, dns.TypeTXT, dns.TypeDS, dns.TypeANY, dns.TypeNS}

// extraNames are names the zones imply but do not own: wildcard matches,
// names below DNAMEs and delegations, and names outside every zone.
var extraNames = []string{
	"foo.wild.example.test.", "a.b.wild.example.test.", "x.ent.wild.example.test.",
	"foo.sibling.wild.example.test.", "foo.wcname.example.test.", "foo.wcloop.example.test.",
	"foo.wsub.example.test.", "x.deleg.wsub.example.test.", "foo.tosub.example.test.",
	"www.dname.example.test.", "a.b.dname.example.test.", "dname.example.test.",
	"www.dname-in.example.test.", "nx.dname-in.example.test.", "www.dname-out.example.test.",
	"x.sub.example.test.", "host.sub.example.test.", "a.b.nog.example.test.",
	"x.example.test.", "x.glued.test.", "x.noglue.test.", "x.deep.test.", "a.b.deep.test.",
	"x.other.test.", "back.other.test.",
	// Outside every served zone: REFUSED.
	".", "example.", "com.", "www.example.com.", "elsewhere.example.", "xtest.",
	"test.example.", "in-addr.arpa.",
	// A DNAME substitution that would exceed 255 octets (RFC 6672 2.2).
	longUnder("d.example.test.", 240), longUnder("d.example.test.", 200),
}

// longUnder returns a name of about total octets (in presentation form) that
// ends in suffix, made of 40-octet labels.
func longUnder(suffix string, total int) string {
	var b strings.Builder
	for b.Len()+len(suffix) < total-41 {
		b.WriteString(strings.Repeat("l", 40) + ".")
	}
	if n := total - b.Len() - len(suffix) - 1; n > 0 {
		b.WriteString(strings.Repeat("m", min(n, 63)) + ".")
	}
	return b.String() + suffix
}

// zoneNames returns every owner name in the test zones and every empty
// non-terminal between an owner and its zone's origin, in sorted order.
func zoneNames(t testing.TB) []string {
	t.Helper()
	seen := map[string]bool{}
	for _, z := range authZones {
		f, err := os.Open(filepath.Join("testdata", z.file))
		if err != nil {
			t.Fatal(err)
		}
		zp := dns.NewZoneParser(f, z.origin, z.file)
		for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
			name := rr.Header().Name
			// Add the owner and its ancestors down to the origin (empty
			// non-terminals are names too, RFC 4592 2.2.2).
			for n := name; dns.IsSubDomain(z.origin, n); {
				seen[n] = true
				if dns.CountLabel(n) == dns.CountLabel(z.origin) {
					break
				}
				i, _ := dns.NextLabel(n, 0)
				n = n[i:]
			}
		}
		f.Close()
		if err := zp.Err(); err != nil {
			t.Fatalf("%s: %v", z.file, err)
		}
	}
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// mixCase alternates the case of letters, as a DNS 0x20 client would.
func mixCase(name string) string {
	b := []byte(name)
	up := true
	for i, c := range b {
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			if up {
				b[i] = c &^ 0x20
			} else {
				b[i] = c | 0x20
			}
			up = !up
		}
	}
	return string(b)
}

// msgOpts is how a generated query is flagged.
type msgOpts struct {
	rd, cd, ad, do bool
	edns           int // buffer size; 0 = no OPT record
	ednsVersion    uint8
	options        []dns.EDNS0
}

func buildMsg(t testing.TB, id uint16, name string, qtype, qclass uint16, o msgOpts) []byte {
	t.Helper()
	m := &dns.Msg{}
	m.Id = id
	m.Question = []dns.Question{{Name: name, Qtype: qtype, Qclass: qclass}}
	m.RecursionDesired = o.rd
	m.CheckingDisabled = o.cd
	m.AuthenticatedData = o.ad
	if o.edns > 0 {
		opt := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
		opt.SetUDPSize(uint16(o.edns))
		opt.SetVersion(o.ednsVersion)
		opt.SetDo(o.do)
		opt.Option = o.options
		m.Extra = append(m.Extra, opt)
	}
	w, err := m.Pack()
	if err != nil {
		t.Fatalf("pack %s %s: %v", name, typeString(qtype), err)
	}
	return w
}

func (o msgOpts) String() string {
	var f []string
	for _, x := range []struct {
		on bool
		s  string
	}{{o.rd, "rd"}, {o.cd, "cd"}, {o.ad, "ad"}, {o.do, "do"}} {
		if x.on {
			f = append(f, x.s)
		}
	}
	if o.edns > 0 {
		f = append(f, fmt.Sprintf("edns=%d", o.edns))
		if o.ednsVersion > 0 {
			f = append(f, fmt.Sprintf("v%d", o.ednsVersion))
		}
		for _, opt := range o.options {
			f = append(f, fmt.Sprintf("opt%d", opt.Option()))
		}
	} else {
		f = append(f, "noedns")
	}
	return strings.Join(f, " ")
}

// generator hands out query IDs in sequence so every query is distinct.
type generator struct {
	t  testing.TB
	id uint16
	qs []query
}

func (g *generator) add(group, name string, qtype uint16, o msgOpts, tcp bool) {
	g.addClass(group, name, qtype, dns.ClassINET, o, tcp)
}

func (g *generator) addClass(group, name string, qtype, qclass uint16, o msgOpts, tcp bool) {
	g.id++
	proto := "udp"
	if tcp {
		proto = "tcp"
	}
	label := fmt.Sprintf("%s %s %s %s [%s]", proto, name, classString(qclass), typeString(qtype), o)
	g.qs = append(g.qs, query{group: group, label: label, wire: buildMsg(g.t, g.id, name, qtype, qclass, o), tcp: tcp})
}

func (g *generator) raw(group, label string, wire []byte, tcp bool) {
	g.id++
	if len(wire) >= 2 {
		binary.BigEndian.PutUint16(wire, g.id)
	}
	proto := "udp"
	if tcp {
		proto = "tcp"
	}
	g.qs = append(g.qs, query{group: group, label: proto + " " + label, wire: wire, tcp: tcp})
}

// generateQueries builds the whole query list: the name-by-type matrix
// with and without EDNS, non-existent names, mixed case, large answers at
// several buffer sizes and over TCP, header flags and EDNS variants, and
// odd or malformed messages.
func generateQueries(t testing.TB) []query {
	g := &generator{t: t}
	names := append(zoneNames(t), extraNames...)
	edns := msgOpts{edns: 1232}
	// Mixed case first, so that a server that caches answers sees these
	// names before it has answered them in lower case (rootline's first,
	// uncached answer lost the query's case while its cached ones kept it).
	for _, n := range names {
		for _, qt := range []uint16{dns.TypeA, dns.TypeANY, dns.TypeCNAME, dns.TypeNS, dns.TypeDS, dns.TypeMX} {
			g.add("mixed-case", mixCase(n), qt, edns, false)
		}
	}
	for _, n := range names {
		for _, qt := range matrixTypes {
			g.add("matrix", n, qt, msgOpts{}, false)
			g.add("matrix-edns", n, qt, edns, false)
		}
		if n != "." && !strings.HasPrefix(n, "*.") && len(n) < 230 {
			for _, qt := range nxTypes {
				g.add("nx", "nx-below."+n, qt, edns, false)
			}
		}
		for _, qt := range []uint16{dns.TypeA, dns.TypeTXT, dns.TypeANY, dns.TypeNS} {
			g.add("tcp", n, qt, edns, true)
		}
	}
	for _, n := range []string{"biga.example.test.", "bigtxt.example.test.", "bigaaaa.example.test.", "example.test."} {
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeANY, dns.TypeMX} {
			for _, size := range []int{0, 512, 1000, 1232, 1400, 4096, 65535} {
				g.add("large", n, qt, msgOpts{edns: size}, false)
			}
			g.add("large", n, qt, msgOpts{}, true)
			g.add("large", n, qt, msgOpts{edns: 512}, true)
			g.add("large", n, qt, msgOpts{edns: 65535}, true)
		}
	}
	// Each in lower and mixed case: options such as a cookie can send a
	// query down another code path, which must preserve case too.
	flagNames := []string{"www.example.test.", "nx.example.test.", "alias.example.test.", "x.sub.example.test.", "www.example.com.", "example.test.", "www.dname.example.test.",
		"WwW.ExAmPlE.TeSt.", "Nx.ExAmPlE.TeSt.", "aLiAs.ExAmPlE.TeSt.", "X.SuB.ExAmPlE.TeSt.", "WwW.dNaMe.ExAmPlE.TeSt."}
	variants := []msgOpts{
		{rd: true}, {cd: true}, {ad: true}, {rd: true, edns: 1232},
		{do: true, edns: 1232}, {rd: true, cd: true, ad: true, do: true, edns: 4096},
		{edns: 1232, ednsVersion: 1}, {edns: 1232, ednsVersion: 1, do: true}, {edns: 4096, ednsVersion: 255},
		{edns: 100}, // below 512: treated as 512 (RFC 6891 6.2.5)
		{edns: 1232, options: []dns.EDNS0{&dns.EDNS0_LOCAL{Code: 65001, Data: []byte{1, 2, 3}}}},
		{edns: 1232, options: []dns.EDNS0{&dns.EDNS0_NSID{Code: dns.EDNS0NSID}}},
		{edns: 1232, options: []dns.EDNS0{&dns.EDNS0_COOKIE{Code: dns.EDNS0COOKIE, Cookie: "0102030405060708"}}},
		{edns: 1232, options: []dns.EDNS0{&dns.EDNS0_PADDING{Padding: make([]byte, 16)}}},
		{edns: 1232, options: []dns.EDNS0{&dns.EDNS0_SUBNET{Code: dns.EDNS0SUBNET, Family: 1, SourceNetmask: 24, Address: []byte{192, 0, 2, 0}}}},
	}
	for _, n := range flagNames {
		for _, qt := range []uint16{dns.TypeA, dns.TypeNS, dns.TypeTXT} {
			for _, v := range variants {
				g.add("flags", n, qt, v, false)
			}
			g.add("flags", n, qt, msgOpts{edns: 1232, ednsVersion: 1}, true)
			g.add("flags", n, qt, msgOpts{rd: true, do: true, edns: 1232}, true)
		}
	}
	for _, qc := range []uint16{dns.ClassCHAOS, dns.ClassANY, dns.ClassNONE, dns.ClassHESIOD, 0, 1000} {
		for _, n := range []string{"www.example.test.", "example.test.", "version.bind.", "id.server.", "www.example.com."} {
			g.addClass("class", n, dns.TypeTXT, qc, msgOpts{}, false)
			g.addClass("class", n, dns.TypeA, qc, edns, false)
		}
	}
	for _, qt := range []uint16{0, dns.TypeAXFR, dns.TypeIXFR, dns.TypeOPT, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeDNSKEY, dns.TypeMAILB, dns.TypeMAILA, dns.TypeTKEY, dns.TypeTSIG, 128, 65535} {
		for _, n := range []string{"example.test.", "www.example.test.", "test."} {
			g.add("qtype", n, qt, msgOpts{}, false)
			g.add("qtype", n, qt, edns, true)
		}
	}
	addOdd(g)
	return g.qs
}
