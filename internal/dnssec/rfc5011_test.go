package dnssec

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// rolloverZone publishes and signs DNSKEY sets for an RFC 5011 rollover.
type rolloverZone struct {
	t   *testing.T
	zsk *Key
}

// publish returns the DNSKEY set of keys plus the ZSK, signed at day by
// each key in signers (their current flags included).
func (z rolloverZone) publish(day time.Time, keys []*Key, signers ...*Key) ([]*dns.DNSKEY, []*dns.RRSIG) {
	var set []*dns.DNSKEY
	var rrs []dns.RR
	for _, k := range append(keys, z.zsk) {
		set = append(set, k.DNSKEY)
		rrs = append(rrs, k.DNSKEY)
	}
	var sigs []*dns.RRSIG
	for _, k := range signers {
		sig, err := SignRRset(k, rrs, Validity{day.Add(-time.Hour), day.Add(10 * 24 * time.Hour)})
		if err != nil {
			z.t.Fatal(err)
		}
		sigs = append(sigs, sig)
	}
	return set, sigs
}

func revoke(t *testing.T, k *Key) *Key {
	t.Helper()
	dk := dns.Copy(k.DNSKEY).(*dns.DNSKEY)
	dk.Flags |= FlagRevoke
	r, err := NewKey(dk, k.Signer, Timing{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func states(tp *TrustPoint) map[uint16]KeyState {
	out := map[uint16]KeyState{}
	for _, k := range tp.Keys {
		out[k.DNSKEY.KeyTag()] = k.State
	}
	return out
}

// A full KSK rollover (RFC 5011 6 walks through the same steps), with the
// validation each day done as the resolver would: VerifyDNSKEYs with the
// trust point's keys as anchors.
func TestRFC5011Rollover(t *testing.T) {
	day0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	day := func(n int) time.Time { return day0.Add(time.Duration(n) * 24 * time.Hour) }
	ksk1, _ := Generate("example.", dns.ECDSAP256SHA256, true, day0)
	ksk2, _ := Generate("example.", dns.ECDSAP256SHA256, true, day0)
	ksk3, _ := Generate("example.", dns.ED25519, true, day0)
	zsk, _ := Generate("example.", dns.ECDSAP256SHA256, false, day0)
	z := rolloverZone{t, zsk}
	tp := NewTrustPoint("example.", []*dns.DNSKEY{ksk1.DNSKEY}, day0)

	step := func(n int, keys []*Key, signers ...*Key) []Transition {
		t.Helper()
		set, sigs := z.publish(day(n), keys, signers...)
		var rrs []dns.RR
		for _, k := range set {
			rrs = append(rrs, k)
		}
		if _, res := VerifyDNSKEYs("example.", rrs, sigs, nil, tp.TrustedKeys(), day(n), NewBudget(DefaultLimits())); res.Status != Secure {
			t.Fatalf("day %d: DNSKEY set does not validate with the trust point: %v", n, res)
		}
		return tp.Update(set, sigs, day(n))
	}
	want := func(n int, w map[*Key]KeyState) {
		t.Helper()
		got := states(tp)
		for k, s := range w {
			if got[k.DNSKEY.KeyTag()] != s {
				t.Errorf("day %d: key %d is %v, want %v", n, k.Tag, got[k.DNSKEY.KeyTag()], s)
			}
		}
	}

	step(0, []*Key{ksk1}, ksk1)
	want(0, map[*Key]KeyState{ksk1: StateValid})
	// Day 1: KSK2 published; it waits out the add hold-down.
	if tr := step(1, []*Key{ksk1, ksk2}, ksk1); len(tr) != 1 || tr[0].To != StateAddPend {
		t.Errorf("day 1 transitions %v", tr)
	}
	// Day 2-5: KSK3 appears and vanishes before its hold-down: forgotten.
	step(2, []*Key{ksk1, ksk2, ksk3}, ksk1)
	want(2, map[*Key]KeyState{ksk3: StateAddPend})
	step(5, []*Key{ksk1, ksk2}, ksk1)
	if _, ok := states(tp)[ksk3.Tag]; ok {
		t.Error("day 5: KSK3 still tracked after vanishing in AddPend")
	}
	step(30, []*Key{ksk1, ksk2}, ksk1)
	want(30, map[*Key]KeyState{ksk2: StateAddPend}) // 29 days: not yet
	step(31, []*Key{ksk1, ksk2}, ksk1)
	want(31, map[*Key]KeyState{ksk1: StateValid, ksk2: StateValid})
	if n := len(tp.TrustedKeys()); n != 2 {
		t.Errorf("day 31: %d trusted keys", n)
	}

	// A revocation the key did not sign itself is ignored (RFC 5011
	// 2.1): the key counts as absent, Missing, and stays trusted.
	rev1 := revoke(t, ksk1)
	step(35, []*Key{rev1, ksk2}, ksk2)
	want(35, map[*Key]KeyState{ksk1: StateMissing})
	// Day 40: KSK1 revoked and self-signed; KSK2 signs as the new KSK.
	step(40, []*Key{rev1, ksk2}, rev1, ksk2)
	want(40, map[*Key]KeyState{ksk1: StateRevoked, ksk2: StateValid})
	if keys := tp.TrustedKeys(); len(keys) != 1 || keys[0].KeyTag() != ksk2.Tag {
		t.Errorf("day 40: trusted %v", keys)
	}
	// The revoked key alone no longer validates the set.
	set, sigs := z.publish(day(41), []*Key{rev1, ksk2}, rev1)
	var rrs []dns.RR
	for _, k := range set {
		rrs = append(rrs, k)
	}
	if _, res := VerifyDNSKEYs("example.", rrs, sigs, nil, tp.TrustedKeys(), day(41), NewBudget(DefaultLimits())); res.Status != Bogus {
		t.Errorf("day 41: set signed by the revoked key only: %v", res)
	}
	step(69, []*Key{ksk2}, ksk2)
	want(69, map[*Key]KeyState{ksk1: StateRevoked})
	step(70, []*Key{ksk2}, ksk2)
	want(70, map[*Key]KeyState{ksk1: StateRemoved})

	// Missing and back (RFC 5011 4.1, KeyRem and KeyPres).
	tp2 := NewTrustPoint("example.", []*dns.DNSKEY{ksk1.DNSKEY, ksk2.DNSKEY}, day0)
	s, g := z.publish(day(1), []*Key{ksk2}, ksk2)
	tp2.Update(s, g, day(1))
	if st := states(tp2); st[ksk1.Tag] != StateMissing || len(tp2.TrustedKeys()) != 2 {
		t.Errorf("missing key: %v", st)
	}
	s, g = z.publish(day(2), []*Key{ksk1, ksk2}, ksk2)
	tp2.Update(s, g, day(2))
	if st := states(tp2); st[ksk1.Tag] != StateValid {
		t.Errorf("returned key: %v", st)
	}

	// The state survives a round trip through the state file.
	root := NewTrustPoint(".", []*dns.DNSKEY{ksk3.DNSKEY}, day0)
	text := MarshalTrustPoints([]*TrustPoint{tp, root})
	back, err := ParseTrustPoints(bytes.NewReader(text), "state")
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if again := MarshalTrustPoints(back); !bytes.Equal(again, text) {
		t.Errorf("round trip differs:\n%s\n%s", text, again)
	}
	if len(back) != 2 || back[0].Zone != "." || len(back[1].Keys) != 2 || back[1].Keys[0].State != StateRemoved {
		t.Errorf("state file read back wrong:\n%s", text)
	}
	t.Logf("state file:\n%s", text)
}

func TestRefreshIntervals(t *testing.T) {
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if got := RefreshInterval(172800, now.Add(20*24*time.Hour), now); got != 24*time.Hour {
		t.Errorf("refresh %v, want 24h (TTL/2)", got)
	}
	if got := RefreshInterval(60, now.Add(20*24*time.Hour), now); got != time.Hour {
		t.Errorf("refresh %v, want the 1h floor", got)
	}
	if got := RefreshInterval(1e8, now.Add(100*24*time.Hour), now); got != 15*24*time.Hour {
		t.Errorf("refresh %v, want the 15-day cap", got)
	}
	if got := RetryInterval(172800, now.Add(20*24*time.Hour), now); got != 4*time.Hour+48*time.Minute {
		t.Errorf("retry %v, want TTL/10", got)
	}
}

func TestParseTrustPointsErrors(t *testing.T) {
	key := ". 0 IN DNSKEY 257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA=="
	for _, text := range []string{
		key + "\n",
		key + " ;state=bogus since=2025-01-01T00:00:00Z\n",
		key + " ;state=start since=2025-01-01T00:00:00Z\n",
		key + " ;state=valid\n",
		key + " ;state=valid since=yesterday\n",
		". 0 IN DS 1 13 2 00 ;state=valid since=2025-01-01T00:00:00Z\n",
		key + " ;state=valid since=2025-01-01T00:00:00Z\n" + key + " ;state=valid since=2025-01-01T00:00:00Z\n",
	} {
		if _, err := ParseTrustPoints(strings.NewReader(text), "bad"); err == nil {
			t.Errorf("%q: no error", text)
		}
	}
	tps, err := ParseTrustPoints(strings.NewReader("; comment\n\n"+key+" ;state=addpend since=2025-01-01T00:00:00Z\n"), "ok")
	if err != nil || len(tps) != 1 || tps[0].Keys[0].State != StateAddPend {
		t.Errorf("%v %v", tps, err)
	}
}

func FuzzParseTrustPoints(f *testing.F) {
	f.Add(". 0 IN DNSKEY 257 3 13 GojIhhXUN/u4v54ZQqGSnyhWJwaubCvTmeexv7bR6edbkrSqQpF64cYbcB7wNcP+e+MAnLr+Wi9xMWyQLc8NAA== ;state=valid since=2025-01-01T00:00:00Z\n")
	f.Add("; x\n")
	f.Fuzz(func(t *testing.T, text string) {
		tps, err := ParseTrustPoints(strings.NewReader(text), "fuzz")
		if err != nil {
			return
		}
		out := MarshalTrustPoints(tps)
		again, err := ParseTrustPoints(bytes.NewReader(out), "again")
		if err != nil {
			t.Fatalf("own output does not parse: %v\n%s", err, out)
		}
		if !bytes.Equal(MarshalTrustPoints(again), out) {
			t.Fatalf("not stable:\n%s", out)
		}
	})
}
