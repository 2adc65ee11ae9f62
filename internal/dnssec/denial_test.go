package dnssec

import (
	"testing"

	"github.com/miekg/dns"
)

// proofFrom collects, from a signed zone's index, the NSEC or NSEC3
// records matching or covering each name, as a server would put them in
// a response.
func proofFrom(t *testing.T, x *Index, names ...string) Proof {
	t.Helper()
	p := Proof{Zone: "example."}
	seen := map[string]bool{}
	for _, n := range names {
		if len(x.nsec) > 0 {
			r, _ := x.NSEC(n)
			if !seen[r.Hdr.Name] {
				seen[r.Hdr.Name] = true
				p.NSEC = append(p.NSEC, r)
			}
			continue
		}
		r, _, err := x.NSEC3(n)
		if err != nil {
			t.Fatal(err)
		}
		if !seen[r.Hdr.Name] {
			seen[r.Hdr.Name] = true
			p.NSEC3 = append(p.NSEC3, r)
		}
	}
	return p
}

type denialCase struct {
	name   string
	check  func(p Proof, b *Budget) Result
	names  []string // records to include
	status Status
	ede    EDE
}

func nx(q string) func(Proof, *Budget) Result {
	return func(p Proof, b *Budget) Result { return p.NXDomain(q, b) }
}
func nodata(q string, t uint16) func(Proof, *Budget) Result {
	return func(p Proof, b *Budget) Result { return p.NoData(q, t, b) }
}
func wild(q, ce string) func(Proof, *Budget) Result {
	return func(p Proof, b *Budget) Result { return p.WildcardAnswer(q, ce, b) }
}
func nods(q string) func(Proof, *Budget) Result {
	return func(p Proof, b *Budget) Result { return p.NoDS(q, b) }
}

func runDenial(t *testing.T, x *Index, cases []denialCase) {
	t.Helper()
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBudget(DefaultLimits())
			r := tt.check(proofFrom(t, x, tt.names...), b)
			if r.Status != tt.status || r.EDE != tt.ede {
				t.Errorf("got %v, want %v EDE %d", r, tt.status, tt.ede)
			}
			t.Log(r)
			if b.NSEC3Hashes > 20 {
				t.Errorf("%d NSEC3 hashes for a small proof", b.NSEC3Hashes)
			}
		})
	}
}

// The test zone (signzone_test.go): apex, ns1, *.wild, a.b.ent (b.ent and
// ent are empty non-terminals), secure (signed delegation), x.y.insecure
// (unsigned delegation), dn DNAME.
func TestDenialNSEC(t *testing.T) {
	x, err := NewIndex(signAndCheck(t, nil))
	if err != nil {
		t.Fatal(err)
	}
	runDenial(t, x, []denialCase{
		{"NXDOMAIN", nx("nope.example."), []string{"nope.example.", "*.example."}, Secure, NoEDE},
		{"NXDOMAIN deep", nx("a.b.nope.example."), []string{"a.b.nope.example.", "*.example."}, Secure, NoEDE},
		{"NXDOMAIN without wildcard denial", nx("nope.example."), []string{"nope.example."}, Bogus, EDENSECMissing},
		{"NXDOMAIN for a name that exists", nx("ns1.example."), []string{"ns1.example.", "*.example."}, Bogus, EDEDNSSECBogus},
		{"NXDOMAIN for an empty non-terminal", nx("ent.example."), []string{"ent.example.", "*.example."}, Bogus, EDEDNSSECBogus},
		{"NXDOMAIN below a DNAME", nx("x.dn.example."), []string{"x.dn.example.", "*.dn.example."}, Bogus, EDEDNSSECBogus},
		{"NXDOMAIN below a delegation", nx("zz.secure.example."), []string{"zz.secure.example.", "*.secure.example."}, Bogus, EDEDNSSECBogus},
		{"NXDOMAIN under the wildcard", nx("q.wild.example."), []string{"q.wild.example.", "*.wild.example."}, Bogus, EDEDNSSECBogus},
		{"NODATA", nodata("ns1.example.", dns.TypeAAAA), []string{"ns1.example."}, Secure, NoEDE},
		{"NODATA for a type present", nodata("ns1.example.", dns.TypeA), []string{"ns1.example."}, Bogus, EDEDNSSECBogus},
		{"NODATA at an empty non-terminal", nodata("b.ent.example.", dns.TypeA), []string{"b.ent.example."}, Secure, NoEDE},
		{"NODATA from a wildcard", nodata("q.wild.example.", dns.TypeA), []string{"q.wild.example.", "*.wild.example."}, Secure, NoEDE},
		{"wildcard NODATA for its type", nodata("q.wild.example.", dns.TypeTXT), []string{"q.wild.example.", "*.wild.example."}, Bogus, EDEDNSSECBogus},
		{"NODATA at a delegation", nodata("secure.example.", dns.TypeA), []string{"secure.example."}, Bogus, EDEDNSSECBogus},
		{"NODATA DS at an unsigned delegation", nodata("x.y.insecure.example.", dns.TypeDS), []string{"x.y.insecure.example."}, Secure, NoEDE},
		{"NODATA DS from the apex record", func(p Proof, b *Budget) Result { return p.NoData("example.", dns.TypeDS, b) }, []string{"example."}, Bogus, EDEDNSSECBogus},
		{"NODATA with no proof", nodata("nope.example.", dns.TypeA), []string{"nope.example."}, Bogus, EDENSECMissing},
		{"wildcard answer", wild("a.b.wild.example.", "wild.example."), []string{"a.b.wild.example."}, Secure, NoEDE},
		{"wildcard answer, wrong encloser", wild("a.b.wild.example.", "example."), []string{"a.b.wild.example."}, Bogus, EDEDNSSECBogus},
		{"wildcard answer for an existing name", wild("ns1.example.", "example."), []string{"ns1.example."}, Bogus, EDEDNSSECBogus},
		{"unsigned delegation", nods("x.y.insecure.example."), []string{"x.y.insecure.example."}, Secure, NoEDE},
		{"signed delegation is not unsigned", nods("secure.example."), []string{"secure.example."}, Bogus, EDEDNSSECBogus},
		{"not a delegation", nods("ns1.example."), []string{"ns1.example."}, Bogus, EDEDNSSECBogus},
		{"no proof at all", nx("nope.example."), nil, Bogus, EDENSECMissing},
	})
}

func TestDenialNSEC3(t *testing.T) {
	x, err := NewIndex(signAndCheck(t, &NSEC3Params{Iterations: 5, Salt: []byte{0xab, 0xcd}}))
	if err != nil {
		t.Fatal(err)
	}
	runDenial(t, x, []denialCase{
		{"NXDOMAIN", nx("nope.example."), []string{"example.", "nope.example.", "*.example."}, Secure, NoEDE},
		{"NXDOMAIN deep", nx("a.b.nope.example."), []string{"example.", "nope.example.", "*.example."}, Secure, NoEDE},
		{"NXDOMAIN without wildcard denial", nx("nope.example."), []string{"example.", "nope.example."}, Bogus, EDENSECMissing},
		{"NXDOMAIN without next closer", nx("nope.example."), []string{"example.", "*.example."}, Bogus, EDENSECMissing},
		{"NXDOMAIN for a name that exists", nx("ns1.example."), []string{"ns1.example.", "*.example."}, Bogus, EDEDNSSECBogus},
		{"NXDOMAIN under a DNAME", nx("x.dn.example."), []string{"dn.example.", "x.dn.example.", "*.dn.example."}, Bogus, EDEDNSSECBogus},
		{"NXDOMAIN under a delegation", nx("zz.secure.example."), []string{"secure.example.", "zz.secure.example.", "*.secure.example."}, Bogus, EDEDNSSECBogus},
		{"NXDOMAIN under the wildcard", nx("q.wild.example."), []string{"wild.example.", "q.wild.example.", "*.wild.example."}, Bogus, EDEDNSSECBogus},
		{"NODATA", nodata("ns1.example.", dns.TypeAAAA), []string{"ns1.example."}, Secure, NoEDE},
		{"NODATA for a type present", nodata("ns1.example.", dns.TypeA), []string{"ns1.example."}, Bogus, EDEDNSSECBogus},
		{"NODATA at an empty non-terminal", nodata("b.ent.example.", dns.TypeA), []string{"b.ent.example."}, Secure, NoEDE},
		{"wildcard NODATA", nodata("q.wild.example.", dns.TypeA), []string{"wild.example.", "q.wild.example.", "*.wild.example."}, Secure, NoEDE},
		{"wildcard NODATA for its type", nodata("q.wild.example.", dns.TypeTXT), []string{"wild.example.", "q.wild.example.", "*.wild.example."}, Bogus, EDEDNSSECBogus},
		{"NODATA at a delegation", nodata("secure.example.", dns.TypeA), []string{"secure.example."}, Bogus, EDEDNSSECBogus},
		{"NODATA with no match", nodata("nope.example.", dns.TypeA), []string{"example.", "nope.example."}, Bogus, EDENSECMissing},
		{"wildcard answer", wild("a.b.wild.example.", "wild.example."), []string{"b.wild.example."}, Secure, NoEDE},
		{"wildcard answer, no next closer", wild("a.b.wild.example.", "wild.example."), []string{"wild.example."}, Bogus, EDENSECMissing},
		{"unsigned delegation", nods("x.y.insecure.example."), []string{"x.y.insecure.example."}, Secure, NoEDE},
		{"signed delegation is not unsigned", nods("secure.example."), []string{"secure.example."}, Bogus, EDEDNSSECBogus},
	})
}

func TestDenialNSEC3OptOut(t *testing.T) {
	x, err := NewIndex(signAndCheck(t, &NSEC3Params{OptOut: true}))
	if err != nil {
		t.Fatal(err)
	}
	// With opt-out, insecure delegations and the empty non-terminals only
	// they need leave the chain: x.y.insecure's closest encloser is the
	// apex, and its next closer insecure.example. lies in an opt-out span.
	runDenial(t, x, []denialCase{
		{"unsigned delegation by opt-out", nods("x.y.insecure.example."), []string{"example.", "insecure.example."}, Insecure, NoEDE},
		{"DS NODATA by opt-out", nodata("x.y.insecure.example.", dns.TypeDS), []string{"example.", "insecure.example."}, Insecure, NoEDE},
		{"NXDOMAIN in an opt-out span", nx("nope.example."), []string{"example.", "nope.example.", "*.example."}, Insecure, NoEDE},
		{"A NODATA in an opt-out span is insecure (RFC 5155 erratum 3441, as Unbound)", nodata("x.y.insecure.example.", dns.TypeA), []string{"example.", "insecure.example."}, Insecure, NoEDE},
		{"signed delegation", nods("secure.example."), []string{"secure.example."}, Bogus, EDEDNSSECBogus},
	})
}

// RFC 9276 3.2: iterations above the limit make the answer insecure with
// EDE 27, before any hashing.
func TestNSEC3IterationLimit(t *testing.T) {
	for _, it := range []uint16{50, 51, 150, 2500} {
		x, err := NewIndex(signAndCheck(t, &NSEC3Params{Iterations: it}))
		if err != nil {
			t.Fatal(err)
		}
		p := proofFrom(t, x, "example.", "nope.example.", "*.example.")
		b := NewBudget(DefaultLimits())
		r := p.NXDomain("nope.example.", b)
		want := Secure
		if it > 50 {
			want = Insecure
		}
		if r.Status != want || (want == Insecure && r.EDE != EDEUnsupportedNSEC3Iter) {
			t.Errorf("%d iterations: %v", it, r)
		}
		if want == Insecure && b.NSEC3Hashes != 0 {
			t.Errorf("%d iterations: %d hashes before refusing", it, b.NSEC3Hashes)
		}
	}
}

func TestNSEC3RecordLimit(t *testing.T) {
	x, err := NewIndex(signAndCheck(t, &NSEC3Params{}))
	if err != nil {
		t.Fatal(err)
	}
	p := proofFrom(t, x, "example.", "nope.example.", "*.example.")
	for len(p.NSEC3) <= DefaultLimits().MaxNSEC3Records {
		p.NSEC3 = append(p.NSEC3, p.NSEC3[0])
	}
	if r := p.NXDomain("nope.example.", NewBudget(DefaultLimits())); r.Status != Bogus {
		t.Errorf("%d NSEC3 records: %v", len(p.NSEC3), r)
	}
	// Records of another zone or with unknown flags are ignored.
	q := proofFrom(t, x, "example.", "nope.example.", "*.example.")
	for _, r := range q.NSEC3 {
		r.Flags |= 2
	}
	if r := q.NXDomain("nope.example.", NewBudget(DefaultLimits())); r.Status != Bogus || r.EDE != EDENSECMissing {
		t.Errorf("unknown flags: %v", r)
	}
	q.Zone = "other."
	if r := q.NXDomain("nope.other.", NewBudget(DefaultLimits())); r.Status != Bogus {
		t.Errorf("foreign records: %v", r)
	}
}

func TestChildToward(t *testing.T) {
	for _, tt := range [][3]string{
		{"a.b.c.example.", "example.", "c.example."},
		{"a.b.c.example.", "c.example.", "b.c.example."},
		{"com.", ".", "com."},
		{"example.", "example.", "example."},
	} {
		if got := childToward(tt[0], tt[1]); got != tt[2] {
			t.Errorf("childToward(%s, %s) = %s, want %s", tt[0], tt[1], got, tt[2])
		}
	}
	if got := commonAncestor("a.b.example.", "c.b.example."); got != "b.example." {
		t.Errorf("commonAncestor %s", got)
	}
	if got := commonAncestor("a.example.", "b.org."); got != "." {
		t.Errorf("commonAncestor %s", got)
	}
}
