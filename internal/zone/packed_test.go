package zone

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

const packedZone = `$ORIGIN example.test.
$TTL 300
@          SOA  ns hostmaster 1 3600 600 86400 60
@          NS   ns
@          MX   10 mail
@          TXT  "quote\"d" "back\\slash" "\000\255\032" "" "semi;colon"
ns         A    192.0.2.1
ns         AAAA 2001:db8::1
mail       A    192.0.2.2
www        CNAME ns
Upper      CNAME Mixed.Case.example.test.
_sip._tcp  SRV  0 5 5060 ns
1.2        PTR  ns.example.test.
a\.dot     A    192.0.2.3
\200bin    AAAA 2001:db8::3
x.y.ent    A    192.0.2.4
sub        NS   ns.sub
ns.sub     A    192.0.2.53
*.wild     A    192.0.2.9
dn         DNAME target.example.
hinfo      HINFO "cpu" "os"
`

// Every node is found by its name, its flags are the node's, and each set
// the packed form holds has exactly miekg/dns's RDATA bytes.
func TestPackedMatchesRecords(t *testing.T) {
	z, problems, err := LoadFS(fstest.MapFS{"z": {Data: []byte(packedZone)}}, "z", "example.test.", Options{})
	if err != nil {
		t.Fatal(err, problems)
	}
	held, notHeld := checkPacked(t, z)
	// Mixed.Case in a CNAME and HINFO are left to the full path.
	if held < 15 || notHeld < 3 {
		t.Errorf("held %d sets, left %d", held, notHeld)
	}
}

// A node larger than a block gets a block of its own, and the nodes after
// it are still found (their offsets fit).
func TestPackedBigNode(t *testing.T) {
	var sb strings.Builder
	sb.WriteString("$ORIGIN big.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 60\n@ NS ns\nns A 192.0.2.1\n")
	// Escapes make the size bound loose: the node's own block has slack
	// left past packedBlock, where no node may start.
	long := strings.Repeat("x", 190) + strings.Repeat(`\065`, 50)
	for i := range 6000 { // ~1.5 MB of TXT at one name
		fmt.Fprintf(&sb, "huge TXT \"%d%s\"\n", i, long)
	}
	for i := range 2000 {
		fmt.Fprintf(&sb, "h%d A 10.0.%d.%d\n", i, i>>8, i&255)
	}
	z, problems, err := LoadFS(fstest.MapFS{"z": {Data: []byte(sb.String())}}, "z", "big.test.", Options{})
	if err != nil {
		t.Fatal(err, problems)
	}
	if len(z.packed) < 3 {
		t.Fatalf("%d blocks: the big node did not get its own", len(z.packed))
	}
	if held, _ := checkPacked(t, z); held < 2000 {
		t.Errorf("held %d sets", held)
	}
}

// checkPacked holds every node's packed form to its records, and returns
// how many sets are held packed and how many are not.
func checkPacked(t *testing.T, z *Zone) (held, notHeld int) {
	t.Helper()
	for i := range z.nodes {
		n := &z.nodes[i]
		p := z.PackedName([]byte(n.Name))
		if p == nil || z.NodeOf(p) != n || !p.Is([]byte(n.Name)) || z.Node(n.Name) != n {
			t.Fatalf("%s: packed lookup gives %v", n.Name, p)
		}
		for _, s := range n.Sets {
			for _, rr := range s.RRs {
				if rr.Header().Name != n.Name {
					t.Errorf("%s: owner %q", rr, rr.Header().Name)
				}
			}
		}
		want := byte(0)
		if n.DNAME() != nil {
			want |= PackedDNAME
		}
		if n.Cut {
			want |= PackedCut
		}
		if n.Wild {
			want |= PackedWild
		}
		if n.Hashed() {
			want |= PackedHashed
		}
		if p.Flags() != want || p.Empty() != n.Empty() {
			t.Errorf("%s: flags %b empty %v, want %b %v", n.Name, p.Flags(), p.Empty(), want, n.Empty())
		}
		for _, s := range n.Sets {
			ps, ok := p.Set(s.Type)
			if !ok {
				t.Fatalf("%s %s: set missing", n.Name, dns.TypeToString[s.Type])
			}
			if ps.Count < 0 {
				notHeld++
				continue
			}
			held++
			if ps.Count != len(s.RRs) || ps.TTL != s.RRs[0].Header().Ttl {
				t.Errorf("%s %s: count %d ttl %d", n.Name, dns.TypeToString[s.Type], ps.Count, ps.TTL)
			}
			rest := ps
			for _, rr := range s.RRs {
				var got []byte
				got, rest = rest.Next()
				if wantRD := rdataOf(t, rr); !bytes.Equal(got, wantRD) {
					t.Errorf("%s: packed %x, miekg %x", rr, got, wantRD)
				}
			}
		}
	}
	return held, notHeld
}

// rdataOf is rr's RDATA as miekg/dns packs it without compression, names
// lower-cased as the packed form keeps them.
func rdataOf(t *testing.T, rr dns.RR) []byte {
	t.Helper()
	c := dns.Copy(rr)
	buf := make([]byte, 65535)
	end, err := dns.PackRR(c, buf, 0, nil, false)
	if err != nil {
		t.Fatal(err)
	}
	var wb [dnsname.MaxNameLen]byte
	w, _ := dnsname.AppendCanonicalWire(wb[:0], c.Header().Name)
	rd := buf[len(w)+10 : end]
	if t := rr.Header().Rrtype; PackedNameAt(t) >= 0 && t != dns.TypeSOA { // SOA: names already lower case, numbers after them
		rd = dnsname.AppendLowerWire(nil, rd)
	}
	return rd
}

func BenchmarkPackedLookup(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("$ORIGIN big.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 60\n@ NS ns\nns A 192.0.2.1\n")
	for i := 0; i < 100000; i++ {
		fmt.Fprintf(&sb, "host%d A 10.%d.%d.%d\n", i, i>>16&255, i>>8&255, i&255)
	}
	z, _, err := LoadFS(fstest.MapFS{"z": {Data: []byte(sb.String())}}, "z", "big.test.", Options{})
	if err != nil {
		b.Fatal(err)
	}
	names := make([][]byte, 1<<16)
	for i := range names {
		names[i] = []byte(fmt.Sprintf("host%d.big.test.", (i*7919)%100000))
	}
	b.ResetTimer()
	i := 0
	for b.Loop() {
		if z.PackedName(names[i&(len(names)-1)]) == nil {
			b.Fatal("not found")
		}
		i++
	}
}
