package validate

import (
	"context"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/validate/validatetest"
)

// Before the time floor the clock is not trusted: signatures outside
// their validity period still verify, the verdict says TimeUnchecked and
// the key cache is left alone; past the floor, validity counts again.
func TestTimeFloor(t *testing.T) {
	h, anchors := standard(t)
	r := &validatetest.Resolver{H: h}
	msg, err := r.Fetch(context.Background(), "www.sec.test.", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	floor := testNow.AddDate(1, 0, 0)
	for _, tc := range []struct {
		name      string
		now       time.Time
		want      dnssec.Status
		unchecked bool
	}{
		{"unset clock, 1970", time.Unix(0, 0), dnssec.Secure, true},
		{"in the window, before the floor", testNow, dnssec.Secure, true},
		{"expired, past the floor", floor.Add(time.Hour), dnssec.Bogus, false},
	} {
		now := tc.now
		v := New(r, Options{Anchors: anchors, Now: func() time.Time { return now }, TimeFloor: floor})
		got := v.Validate(context.Background(), msg, "www.sec.test.", dns.TypeA)
		if got.Status != tc.want || got.TimeUnchecked != tc.unchecked {
			t.Errorf("%s: %v unchecked=%v, want %v unchecked=%v", tc.name, got.Result, got.TimeUnchecked, tc.want, tc.unchecked)
		}
		if tc.unchecked && v.cache.len() != 0 {
			t.Errorf("%s: key cache filled with %d zones", tc.name, v.cache.len())
		}
	}
}

// SetAnchors takes effect at the next validation and drops the key cache.
func TestSetAnchors(t *testing.T) {
	h, anchors := standard(t)
	r := &validatetest.Resolver{H: h}
	msg, err := r.Fetch(context.Background(), "www.sec.test.", dns.TypeA)
	if err != nil {
		t.Fatal(err)
	}
	v := newValidator(r, anchors, 0)
	if got := v.Validate(context.Background(), msg, "www.sec.test.", dns.TypeA); !got.Secure() || v.cache.len() == 0 {
		t.Fatalf("before: %v, %d cached", got.Result, v.cache.len())
	}
	wrong := dnssec.NewAnchorSet()
	if err := wrong.Add(&dns.DS{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeDS, Class: dns.ClassINET}, KeyTag: 1, Algorithm: 13, DigestType: 2, Digest: "AB"}); err != nil {
		t.Fatal(err)
	}
	v.SetAnchors(wrong)
	if v.Anchors() != wrong || v.cache.len() != 0 {
		t.Fatalf("after SetAnchors: %d cached", v.cache.len())
	}
	if got := v.Validate(context.Background(), msg, "www.sec.test.", dns.TypeA); got.Status != dnssec.Bogus {
		t.Errorf("with an anchor that matches no key: %v", got.Result)
	}
}
