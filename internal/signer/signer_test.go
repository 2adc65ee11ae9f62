package signer

import (
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/zone"
)

const testZone = `$ORIGIN example.test.
$TTL 300
@ IN SOA ns hostmaster 41 3600 600 86400 60
@ IN NS ns
ns IN A 192.0.2.1
www IN A 192.0.2.10
*.wild IN TXT "wild"
sub IN NS ns.sub
ns.sub IN A 192.0.2.53
secure IN NS ns.other.test.
secure IN DS 12345 13 2 0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF
`

func load(t *testing.T, text string) *zone.Zone {
	t.Helper()
	z, problems, err := zone.LoadFS(fstest.MapFS{"z": {Data: []byte(text)}}, "z", "example.test.", zone.Options{})
	if err != nil {
		t.Fatalf("%v %v", err, problems)
	}
	return z
}

func testKeys(t *testing.T, origin string) []*dnssec.Key {
	t.Helper()
	var keys []*dnssec.Key
	for _, ksk := range []bool{true, false} {
		k, err := dnssec.Generate(origin, dns.ECDSAP256SHA256, ksk, t0)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	return keys
}

// zoneText is z as a zone file.
func zoneText(z *zone.Zone) string {
	var b strings.Builder
	for _, name := range z.Names() {
		for _, set := range z.Node(name).Sets {
			for _, rr := range set.RRs {
				b.WriteString(rr.String() + "\n")
			}
		}
	}
	return b.String()
}

var testPolicy = Policy{Validity: 14 * 24 * time.Hour, Refresh: 7 * 24 * time.Hour, Workers: 2}

// verifyAll checks every signature of z against its DNSKEYs at now, and
// that every authoritative RRset is signed.
func verifyAll(t *testing.T, z *zone.Zone, now time.Time) {
	t.Helper()
	var keys []*dnssec.Key
	for _, rr := range z.Apex().Get(dns.TypeDNSKEY) {
		k, err := dnssec.NewKey(rr.(*dns.DNSKEY), nil, dnssec.Timing{})
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	for _, name := range z.Names() {
		n := z.Node(name)
		for _, sig := range n.Get(dns.TypeRRSIG) {
			sig := sig.(*dns.RRSIG)
			ok := false
			for _, k := range keys {
				if k.Tag == sig.KeyTag && dnssec.VerifyRRset(k, sig, n.Get(sig.TypeCovered)) == nil && dnssec.ValidAt(sig, now) {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s RRSIG %s does not verify at %v", name, dns.TypeToString[sig.TypeCovered], now)
			}
		}
	}
	if w := Check(z, now); len(w) > 0 {
		t.Errorf("Check: %v", w)
	}
}

// The life of a signed zone: first signing at the file's serial; a reload
// of the same file keeps the version; new content, a refresh and a bumped
// file each make a version with a later serial.
func TestSignVersions(t *testing.T) {
	keys := testKeys(t, "example.test.")
	v1, changed, err := Sign(load(t, testZone), keys, testPolicy, nil, t0)
	if err != nil || !changed {
		t.Fatalf("first signing: %v %v", changed, err)
	}
	if v1.Zone.SOA.Serial != 41 || v1.FileSerial != 41 || !v1.Zone.Signed() || len(v1.DS) != 1 {
		t.Fatalf("v1: serial %d signed %v DS %d", v1.Zone.SOA.Serial, v1.Zone.Signed(), len(v1.DS))
	}
	verifyAll(t, v1.Zone, t0)
	if v1.Zone.Node("www.example.test.").Get(dns.TypeNSEC) == nil {
		t.Error("no NSEC at www")
	}

	// Reload of the same file a day later: nothing to do.
	v, changed, err := Sign(load(t, testZone), keys, testPolicy, v1, t0.Add(24*time.Hour))
	if err != nil || changed || v != v1 {
		t.Fatalf("unchanged reload: %v %v", changed, err)
	}
	// A file that came signed: its DNSSEC records are made afresh, none
	// kept twice.
	again, _, err := Sign(load(t, zoneText(v1.Zone)), keys, testPolicy, nil, t0)
	if err != nil || again.Zone.Records != v1.Zone.Records || again.Zone.Len() != v1.Zone.Len() {
		t.Errorf("the signed zone signed again: %v, %d records, want %d", err, again.Zone.Records, v1.Zone.Records)
	}

	// New content, same file serial: the serial moves past the served one.
	v2, changed, err := Sign(load(t, testZone+"new IN A 192.0.2.99\n"), keys, testPolicy, v1, t0.Add(time.Hour))
	if err != nil || !changed || v2.Zone.SOA.Serial != 42 {
		t.Fatalf("changed content: %v %v serial %d", changed, err, v2.Zone.SOA.Serial)
	}
	verifyAll(t, v2.Zone, t0.Add(time.Hour))

	// Unchanged file, but the refresh is due: re-signed, serial 43.
	due := RefreshAt(v2.Expires, testPolicy.Refresh)
	v3, changed, err := Sign(load(t, testZone+"new IN A 192.0.2.99\n"), keys, testPolicy, v2, due)
	if err != nil || !changed || v3.Zone.SOA.Serial != 43 || !v3.Expires.After(v2.Expires) {
		t.Fatalf("due refresh at reload: %v %v serial %d", changed, err, v3.Zone.SOA.Serial)
	}
	// The timer's refresh: the served content, signed again.
	later := RefreshAt(v3.Expires, testPolicy.Refresh)
	v4, err := Resign(v3, keys, testPolicy, later)
	if err != nil || v4.Zone.SOA.Serial != 44 || v4.Digest != v3.Digest || v4.Zone.Records != v3.Zone.Records {
		t.Fatalf("Resign: %v serial %d records %d vs %d", err, v4.Zone.SOA.Serial, v4.Zone.Records, v3.Zone.Records)
	}
	verifyAll(t, v4.Zone, later)
	// The operator bumps the file's serial past ours: theirs wins.
	bumped := strings.Replace(testZone, " 41 ", " 100 ", 1)
	v5, changed, err := Sign(load(t, bumped), keys, testPolicy, v4, later)
	if err != nil || !changed || v5.Zone.SOA.Serial != 100 {
		t.Fatalf("bumped file: %v %v serial %d", changed, err, v5.Zone.SOA.Serial)
	}
	// New keys re-sign too.
	if _, changed, _ := Sign(load(t, bumped), testKeys(t, "example.test."), testPolicy, v5, later); !changed {
		t.Error("new keys kept the old version")
	}
	// A key for another zone is refused.
	if _, _, err := Sign(load(t, testZone), testKeys(t, "other.test."), testPolicy, nil, t0); err == nil || !strings.Contains(err.Error(), "other.test.") {
		t.Errorf("foreign key: %v", err)
	}
}

// NSEC3 with opt-out, and refreshes of an NSEC3 zone: the old hashed
// owner names are not carried into the new chain.
func TestSignNSEC3(t *testing.T) {
	keys := testKeys(t, "example.test.")
	pol := testPolicy
	pol.NSEC3 = &dnssec.NSEC3Params{OptOut: true}
	v1, _, err := Sign(load(t, testZone), keys, pol, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	p := v1.Zone.NSEC3Param()
	if p == nil || p.Iterations != 0 || (p.Salt != "" && p.Salt != "-") {
		t.Fatalf("NSEC3PARAM %v", p)
	}
	verifyAll(t, v1.Zone, t0)
	now := RefreshAt(v1.Expires, pol.Refresh)
	v2, err := Resign(v1, keys, pol, now)
	if err != nil {
		t.Fatal(err)
	}
	if v2.Zone.Len() != v1.Zone.Len() || v2.Zone.Records != v1.Zone.Records {
		t.Errorf("refresh changed the zone's shape: %d/%d names, %d/%d records", v2.Zone.Len(), v1.Zone.Len(), v2.Zone.Records, v1.Zone.Records)
	}
	verifyAll(t, v2.Zone, now)
	// The NSEC3-signed zone as a file, signed again.
	again, _, err := Sign(load(t, zoneText(v2.Zone)), keys, pol, nil, now)
	if err != nil || again.Zone.Len() != v2.Zone.Len() || again.Zone.Records != v2.Zone.Records {
		t.Errorf("NSEC3 zone signed again: %v, %d names, want %d", err, again.Zone.Len(), v2.Zone.Len())
	}
	// Switching to NSEC on reload re-signs.
	if v3, changed, err := Sign(load(t, testZone), keys, testPolicy, v2, now); err != nil || !changed || v3.Zone.NSEC3Param() != nil {
		t.Errorf("NSEC3 -> NSEC: %v %v", changed, err)
	}
}

// Check reports what would fail validation in a zone that came signed.
func TestCheck(t *testing.T) {
	keys := testKeys(t, "example.test.")
	v, _, err := Sign(load(t, testZone), keys, testPolicy, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	if w := Check(load(t, testZone), t0); w != nil {
		t.Errorf("unsigned zone: %v", w)
	}
	if w := Check(v.Zone, v.Expires.Add(time.Hour)); len(w) != 1 || !strings.Contains(w[0], "signatures expired") {
		t.Errorf("expired: %v", w)
	}
	if w := Check(v.Zone, t0.Add(-2*time.Hour)); len(w) != 1 || !strings.Contains(w[0], "not yet valid") {
		t.Errorf("not yet valid: %v", w)
	}
	// Drop www's NSEC: the chain breaks before it.
	var rrs []dns.RR
	for _, name := range v.Zone.Names() {
		for _, set := range v.Zone.Node(name).Sets {
			for _, rr := range set.RRs {
				if name == "www.example.test." && rr.Header().Rrtype == dns.TypeNSEC {
					continue
				}
				rrs = append(rrs, rr)
			}
		}
	}
	broken, err := zone.New("example.test.", rrs)
	if err != nil {
		t.Fatal(err)
	}
	if w := Check(broken, t0); len(w) != 1 || !strings.Contains(w[0], "NSEC chain broken") || !strings.Contains(w[0], "points to www.example.test.") {
		t.Errorf("broken chain: %v", w)
	}
}
