package dnssec

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// nodesFrom groups zone-file text into canonical-order nodes, adding
// empty non-terminals, as the zone loader does.
func nodesFrom(t testing.TB, origin, text string) []Node {
	t.Helper()
	byName := map[string]map[uint16][]dns.RR{}
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		name := dns.CanonicalName(rr.Header().Name)
		rr.Header().Name = name
		if byName[name] == nil {
			byName[name] = map[uint16][]dns.RR{}
		}
		byName[name][rr.Header().Rrtype] = append(byName[name][rr.Header().Rrtype], rr)
		for n := name; n != origin; {
			i, _ := dns.NextLabel(n, 0)
			n = n[i:]
			if byName[n] == nil {
				byName[n] = map[uint16][]dns.RR{}
			}
		}
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	var nodes []Node
	for name, sets := range byName {
		n := Node{Name: name}
		for _, s := range sets {
			n.Sets = append(n.Sets, s)
		}
		nodes = append(nodes, n)
	}
	slices.SortFunc(nodes, func(a, b Node) int { return CompareNames(a.Name, b.Name) })
	return nodes
}

const testZone = `$TTL 3600
@ SOA ns1 host 1 7200 3600 1209600 300
@ NS ns1
ns1 A 192.0.2.1
*.wild TXT "w"
a.b.ent A 192.0.2.3
secure NS ns.secure
secure DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.secure A 192.0.2.10
x.y.insecure NS ns.example.net.
dn DNAME example.net.
below.dn A 192.0.2.9
`

func TestClassify(t *testing.T) {
	nodes := nodesFrom(t, "example.", testZone)
	kinds := Classify("example.", nodes)
	want := map[string]Kind{"example.": KindAuth, "ns1.example.": KindAuth, "wild.example.": KindENT,
		"b.ent.example.": KindENT, "secure.example.": KindDelegation, "ns.secure.example.": KindOccluded,
		"y.insecure.example.": KindENT, "x.y.insecure.example.": KindDelegation, "below.dn.example.": KindOccluded}
	for i, n := range nodes {
		if w, ok := want[n.Name]; ok && kinds[i] != w {
			t.Errorf("%s: kind %d, want %d", n.Name, kinds[i], w)
		}
	}
}

// signAndCheck signs the test zone and verifies every signature with
// VerifyRRset; it returns the result for chain checks.
func signAndCheck(t *testing.T, p *NSEC3Params) *Signed {
	t.Helper()
	now := time.Unix(1.7e9, 0)
	ksk, _ := Generate("example.", dns.ECDSAP256SHA256, true, now)
	zsk, _ := Generate("example.", dns.ED25519, false, now)
	s, err := SignZone("example.", nodesFrom(t, "example.", testZone), []*Key{ksk, zsk},
		SignOptions{Validity: Validity{now, now.Add(time.Hour)}, NSEC3: p, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[uint16]*Key{ksk.Tag: ksk, zsk.Tag: zsk}
	signedTypes := map[string][]uint16{}
	for _, n := range s.Nodes {
		for _, set := range n.Sets {
			for _, sig := range set.Sigs {
				if err := VerifyRRset(keys[sig.KeyTag], sig, set.RRs); err != nil {
					t.Errorf("%s %s: %v", n.Name, dns.TypeToString[sig.TypeCovered], err)
				}
				if !ValidAt(sig, now.Add(time.Minute)) || ValidAt(sig, now.Add(2*time.Hour)) {
					t.Error("validity period wrong")
				}
				if (sig.TypeCovered == dns.TypeDNSKEY) != (sig.KeyTag == ksk.Tag) {
					t.Errorf("%s: key %d signed %s", n.Name, sig.KeyTag, dns.TypeToString[sig.TypeCovered])
				}
				signedTypes[n.Name] = append(signedTypes[n.Name], sig.TypeCovered)
			}
		}
	}
	for _, name := range []string{"ns.secure.example.", "below.dn.example."} {
		if len(signedTypes[name]) > 0 {
			t.Errorf("occluded %s signed: %v", name, signedTypes[name])
		}
	}
	if slices.Contains(signedTypes["secure.example."], dns.TypeNS) {
		t.Error("delegation NS signed")
	}
	if len(s.DS) != 1 || s.DS[0].KeyTag != ksk.Tag {
		t.Errorf("DS %v", s.DS)
	}
	return s
}

func TestSignZoneNSEC(t *testing.T) {
	s := signAndCheck(t, nil)
	x, err := NewIndex(s)
	if err != nil {
		t.Fatal(err)
	}
	var owners []string
	for _, r := range x.nsec {
		owners = append(owners, r.Hdr.Name+">"+r.NextDomain+" "+typesString(r.TypeBitMap))
	}
	want := []string{
		"example.>dn.example. NS SOA RRSIG NSEC DNSKEY",
		"dn.example.>a.b.ent.example. DNAME RRSIG NSEC",
		"a.b.ent.example.>x.y.insecure.example. A RRSIG NSEC",
		"x.y.insecure.example.>ns1.example. NS RRSIG NSEC",
		"ns1.example.>secure.example. A RRSIG NSEC",
		"secure.example.>*.wild.example. NS DS RRSIG NSEC",
		"*.wild.example.>example. TXT RRSIG NSEC",
	}
	if strings.Join(owners, "\n") != strings.Join(want, "\n") {
		t.Errorf("chain\n%s\nwant\n%s", strings.Join(owners, "\n"), strings.Join(want, "\n"))
	}
	r, match := x.NSEC("nope.ns1.example.")
	if match || r.Hdr.Name != "ns1.example." || !Covers(r, "nope.ns1.example.") {
		t.Errorf("cover of nope.ns1: %v %v", r, match)
	}
	if r, _ := x.NSEC("zzz.example."); r.Hdr.Name != "*.wild.example." || !Covers(r, "zzz.example.") {
		t.Errorf("wrap-around cover: %v", r)
	}
}

func typesString(ts []uint16) string {
	var s []string
	for _, t := range ts {
		s = append(s, dns.TypeToString[t])
	}
	return strings.Join(s, " ")
}

func TestSignZoneNSEC3(t *testing.T) {
	for _, optOut := range []bool{false, true} {
		s := signAndCheck(t, &NSEC3Params{OptOut: optOut})
		x, err := NewIndex(s)
		if err != nil {
			t.Fatal(err)
		}
		inChain := func(name string) bool { _, m, _ := x.NSEC3(name); return m }
		// Without opt-out: 9 names (apex, ns1, wild ENT, *.wild, ent ENT,
		// b.ent ENT, a.b.ent, secure, dn, insecure ENT, y.insecure ENT,
		// x.y.insecure) = 12; with it the insecure delegation and the
		// two ENTs only it needs leave.
		want := 12
		if optOut {
			want = 9
		}
		if len(x.nsec3) != want {
			t.Errorf("opt-out %v: %d NSEC3 records, want %d", optOut, len(x.nsec3), want)
		}
		for _, name := range []string{"example.", "wild.example.", "b.ent.example.", "secure.example.", "*.wild.example."} {
			if !inChain(name) {
				t.Errorf("opt-out %v: %s not in the chain", optOut, name)
			}
		}
		if inChain("ns.secure.example.") || inChain("below.dn.example.") {
			t.Error("occluded name in the chain")
		}
		if inChain("y.insecure.example.") == optOut || inChain("x.y.insecure.example.") == optOut {
			t.Errorf("opt-out %v: insecure delegation membership wrong", optOut)
		}
		p, err := x.ClosestEncloser("a.nope.ns1.example.")
		if err != nil {
			t.Fatal(err)
		}
		h, _ := HashName("nope.ns1.example.", 0, nil)
		if p.Encloser != "ns1.example." || p.NextCloser != "nope.ns1.example." || !Covers3(p.Cover, h) {
			t.Errorf("closest encloser proof %+v", p)
		}
		apex, _, _ := x.NSEC3("example.")
		if !slices.Contains(apex.TypeBitMap, dns.TypeNSEC3PARAM) || !slices.Contains(apex.TypeBitMap, dns.TypeDNSKEY) {
			t.Errorf("apex bitmap %v", typesString(apex.TypeBitMap))
		}
		if (apex.Flags&1 != 0) != optOut {
			t.Error("opt-out flag")
		}
	}
}

func TestSignZoneRejects(t *testing.T) {
	now := time.Unix(1.7e9, 0)
	other, _ := Generate("example.org.", dns.ED25519, false, now)
	nodes := nodesFrom(t, "example.", testZone)
	if _, err := SignZone("example.", nodes, []*Key{other}, SignOptions{}); err == nil || !strings.Contains(err.Error(), "is for zone example.org.") {
		t.Errorf("foreign key: %v", err)
	}
	if _, err := SignZone("example.", nodes, nil, SignOptions{}); err == nil {
		t.Error("no keys accepted")
	}
}

// BenchmarkSignZone signs a generated zone of 100k records (A, AAAA, TXT
// and delegations) on all cores with ECDSA P-256 and NSEC.
func BenchmarkSignZone(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("$TTL 3600\n@ SOA ns1 host 1 7200 3600 1209600 300\n@ NS ns1\nns1 A 192.0.2.1\n")
	for i, n := 0, 3; n < 100_000; i++ {
		fmt.Fprintf(&sb, "h%d A 10.%d.%d.%d\n", i, i>>16&255, i>>8&255, i&255)
		n++
		if i%2 == 0 {
			fmt.Fprintf(&sb, "h%d AAAA 2001:db8::%x:%x\n", i, i>>16, i&0xffff)
			n++
		}
		if i%10 == 0 {
			fmt.Fprintf(&sb, "d%d NS ns.example.net.\n", i)
			n++
		}
	}
	nodes := nodesFrom(b, "example.", sb.String())
	now := time.Unix(1.7e9, 0)
	ksk, _ := Generate("example.", dns.ECDSAP256SHA256, true, now)
	zsk, _ := Generate("example.", dns.ECDSAP256SHA256, false, now)
	opt := SignOptions{Validity: Validity{now, now.Add(time.Hour)}, Workers: runtime.GOMAXPROCS(0)}
	b.ResetTimer()
	for b.Loop() {
		s, err := SignZone("example.", nodes, []*Key{ksk, zsk}, opt)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(s.Sigs), "sigs/op")
	}
}
