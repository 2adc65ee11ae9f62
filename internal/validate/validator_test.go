package validate

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/validate/validatetest"
)

// testNow is the fixed clock of the unit tests.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func standard(t *testing.T) (*validatetest.Hierarchy, *dnssec.AnchorSet) {
	t.Helper()
	return buildAnchored(t, validatetest.Standard(testNow, nil))
}

func newValidator(r Fetcher, anchors *dnssec.AnchorSet, cache int) *Validator {
	return New(r, Options{Anchors: anchors, Now: func() time.Time { return testNow }, CacheSize: cache})
}

// The standard hierarchy's cases, each on a fresh validator (no cache) and
// again on one shared validator (cache warm after the first).
func TestStandardCases(t *testing.T) {
	h, anchors := standard(t)
	shared := newValidator(&validatetest.Resolver{H: h}, anchors, 0)
	for _, c := range validatetest.StandardCases() {
		t.Run(c.Name+"/"+dns.TypeToString[c.Type], func(t *testing.T) {
			r := &validatetest.Resolver{H: h}
			msg, err := r.Fetch(context.Background(), c.Name, c.Type)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range []*Validator{newValidator(r, anchors, -1), shared} {
				got := v.Validate(context.Background(), msg, c.Name, c.Type)
				if got.Status != c.Status || (c.EDE != dnssec.NoEDE && got.EDE != c.EDE) {
					t.Errorf("got %v, want %v EDE %d\nchain: %+v\nrrsets: %+v", got.Result, c.Status, c.EDE, got.Chain, got.RRsets)
				}
				if got.Fetches > MaxFetches || got.Budget.Verifications > got.Budget.MaxVerifications {
					t.Errorf("fetches %d, verifications %d", got.Fetches, got.Budget.Verifications)
				}
			}
		})
	}
}

// BenchmarkValidate measures one validation of a signed answer two zones
// below the root: cold (the whole chain fetched and verified, 5 queries,
// 6 verifications) and warm (keys from the cache, 1 verification).
func BenchmarkValidate(b *testing.B) {
	h, err := validatetest.Build(validatetest.Standard(testNow, nil), testNow)
	if err != nil {
		b.Fatal(err)
	}
	anchors := dnssec.NewAnchorSet()
	for _, ds := range h.Anchor {
		_ = anchors.Add(ds)
	}
	r := &validatetest.Resolver{H: h}
	msg, _ := r.Fetch(context.Background(), "www.sec.test.", dns.TypeA)
	for _, bc := range []struct {
		name  string
		cache int
	}{{"cold", -1}, {"warm", 0}} {
		b.Run(bc.name, func(b *testing.B) {
			v := newValidator(r, anchors, bc.cache)
			b.ReportAllocs()
			for b.Loop() {
				if got := v.Validate(context.Background(), msg, "www.sec.test.", dns.TypeA); !got.Secure() {
					b.Fatal(got.Result)
				}
			}
		})
	}
}
