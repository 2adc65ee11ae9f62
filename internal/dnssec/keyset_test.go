package dnssec

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// t0 is the validation time of the synthetic tests; signatures run from a
// day before to thirty days after.
var (
	t0     = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	valid0 = Validity{Inception: t0.Add(-24 * time.Hour), Expiration: t0.Add(30 * 24 * time.Hour)}
)

// tzone is a signed test zone: a KSK, a ZSK and its signed DNSKEY set.
type tzone struct {
	name     string
	ksk, zsk *Key
	dnskeys  []dns.RR
	keySigs  []*dns.RRSIG
}

func newTZone(t testing.TB, name string, alg uint8) *tzone {
	t.Helper()
	z := &tzone{name: dns.CanonicalName(name)}
	var err error
	if z.ksk, err = Generate(name, alg, true, t0); err != nil {
		t.Fatal(err)
	}
	if z.zsk, err = Generate(name, alg, false, t0); err != nil {
		t.Fatal(err)
	}
	for _, k := range []*Key{z.ksk, z.zsk} {
		k.DNSKEY.Hdr.Ttl = 3600
		z.dnskeys = append(z.dnskeys, k.DNSKEY)
	}
	z.keySigs = []*dns.RRSIG{z.signWith(t, z.ksk, z.dnskeys, valid0)}
	return z
}

func (z *tzone) signWith(t testing.TB, k *Key, rrset []dns.RR, v Validity) *dns.RRSIG {
	t.Helper()
	sig, err := SignRRset(k, rrset, v)
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// sign signs an RRset with the ZSK.
func (z *tzone) sign(t testing.TB, rrset []dns.RR) []*dns.RRSIG {
	return []*dns.RRSIG{z.signWith(t, z.zsk, rrset, valid0)}
}

func (z *tzone) ds(t testing.TB, digest uint8) []*dns.DS {
	t.Helper()
	d, err := z.ksk.DS(digest)
	if err != nil {
		t.Fatal(err)
	}
	return []*dns.DS{d}
}

func (z *tzone) keySet(t testing.TB) *KeySet {
	t.Helper()
	ks, res := VerifyDNSKEYs(z.name, z.dnskeys, z.keySigs, z.ds(t, dns.SHA256), nil, t0, NewBudget(DefaultLimits()))
	if res.Status != Secure {
		t.Fatalf("%s keys: %v", z.name, res)
	}
	return ks
}

func TestVerifyDNSKEYs(t *testing.T) {
	z := newTZone(t, "example.", dns.ECDSAP256SHA256)
	good := z.ds(t, dns.SHA256)
	withAlg := func(alg uint8) []*dns.DS { d := *good[0]; d.Algorithm = alg; return []*dns.DS{&d} }
	withDigest := func(dt uint8, digest string) *dns.DS {
		d := *good[0]
		d.DigestType, d.Digest = dt, digest
		return &d
	}
	sha1DS := z.ds(t, dns.SHA1)[0]
	wrong := withDigest(dns.SHA256, strings.Repeat("00", 32))
	expired := []*dns.RRSIG{z.signWith(t, z.ksk, z.dnskeys, Validity{t0.Add(-48 * time.Hour), t0.Add(-time.Hour)})}
	early := []*dns.RRSIG{z.signWith(t, z.ksk, z.dnskeys, Validity{t0.Add(time.Hour), t0.Add(48 * time.Hour)})}
	byZSK := []*dns.RRSIG{z.signWith(t, z.zsk, z.dnskeys, valid0)}
	extra, _ := Generate("example.", dns.ECDSAP256SHA256, false, t0)
	tampered := append(append([]dns.RR{}, z.dnskeys...), extra.DNSKEY)
	many := make([]dns.RR, 0, 40)
	for range 40 {
		many = append(many, z.dnskeys[0])
	}

	tests := []struct {
		name    string
		keys    []dns.RR
		sigs    []*dns.RRSIG
		ds      []*dns.DS
		anchors []*dns.DNSKEY
		status  Status
		ede     EDE
	}{
		{"DS SHA-256", z.dnskeys, z.keySigs, good, nil, Secure, NoEDE},
		{"DS SHA-384", z.dnskeys, z.keySigs, z.ds(t, dns.SHA384), nil, Secure, NoEDE},
		{"DS SHA-1 alone", z.dnskeys, z.keySigs, []*dns.DS{sha1DS}, nil, Secure, NoEDE},
		{"anchor key", z.dnskeys, z.keySigs, nil, []*dns.DNSKEY{z.ksk.DNSKEY}, Secure, NoEDE},
		{"no DS nor anchor", z.dnskeys, z.keySigs, nil, nil, Indeterminate, NoEDE},
		{"unsupported DS algorithm (Ed448)", z.dnskeys, z.keySigs, withAlg(dns.ED448), nil, Insecure, EDEUnsupportedDNSKEYAlg},
		{"unsupported DS digest (GOST)", z.dnskeys, z.keySigs, []*dns.DS{withDigest(dns.GOST94, good[0].Digest)}, nil, Insecure, EDEUnsupportedDSDigest},
		{"unsupported beside supported", z.dnskeys, z.keySigs, append(withAlg(dns.ED448), good...), nil, Secure, NoEDE},
		{"anchor with unsupported algorithm", z.dnskeys, z.keySigs, nil, []*dns.DNSKEY{{Hdr: z.ksk.DNSKEY.Hdr, Flags: 257, Protocol: 3, Algorithm: dns.ED448, PublicKey: "AAAA"}}, Insecure, EDEUnsupportedDNSKEYAlg},
		{"DS digest mismatch", z.dnskeys, z.keySigs, []*dns.DS{wrong}, nil, Bogus, EDEDNSKEYMissing},
		// RFC 4509 3: with a SHA-256 DS present the SHA-1 one is ignored,
		// whether it matches or not.
		{"SHA-1 bad, SHA-256 good", z.dnskeys, z.keySigs, []*dns.DS{withDigest(dns.SHA1, strings.Repeat("00", 20)), good[0]}, nil, Secure, NoEDE},
		{"SHA-1 good, SHA-256 bad", z.dnskeys, z.keySigs, []*dns.DS{sha1DS, wrong}, nil, Bogus, EDEDNSKEYMissing},
		{"no RRSIG", z.dnskeys, nil, good, nil, Bogus, EDERRSIGsMissing},
		{"signed by the ZSK only", z.dnskeys, byZSK, good, nil, Bogus, EDEDNSKEYMissing},
		{"expired", z.dnskeys, expired, good, nil, Bogus, EDESignatureExpired},
		{"not yet valid", z.dnskeys, early, good, nil, Bogus, EDESignatureNotYetValid},
		{"key added after signing", tampered, z.keySigs, good, nil, Bogus, EDEDNSSECBogus},
		{"no DNSKEYs", nil, z.keySigs, good, nil, Bogus, EDEDNSKEYMissing},
		{"too many DNSKEYs", many, z.keySigs, good, nil, Bogus, EDEDNSSECBogus},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ks, res := VerifyDNSKEYs("Example.", tt.keys, tt.sigs, tt.ds, tt.anchors, t0, NewBudget(DefaultLimits()))
			if res.Status != tt.status || res.EDE != tt.ede {
				t.Fatalf("got %v, want %v EDE %d", res, tt.status, tt.ede)
			}
			if (ks != nil) != (tt.status == Secure) {
				t.Fatalf("key set %v with status %v", ks, res.Status)
			}
			if ks != nil {
				if ks.Zone != "example." || len(ks.Keys) != len(tt.keys) || ks.TTL != 3600 {
					t.Errorf("key set zone %s, %d keys, TTL %d", ks.Zone, len(ks.Keys), ks.TTL)
				}
			}
		})
	}
}

// A revoked key does not validate data, and a DS cannot point at it.
func TestRevokedKeys(t *testing.T) {
	z := newTZone(t, "example.", dns.ED25519)
	ds := z.ds(t, dns.SHA256)
	z.ksk.DNSKEY.Flags |= FlagRevoke
	rev, _ := NewKey(z.ksk.DNSKEY, z.ksk.Signer, Timing{})
	sigs := []*dns.RRSIG{z.signWith(t, rev, z.dnskeys, valid0)}
	if _, res := VerifyDNSKEYs("example.", z.dnskeys, sigs, ds, nil, t0, NewBudget(DefaultLimits())); res.Status != Bogus {
		t.Errorf("revoked KSK: %v", res)
	}
	ks := NewTrustedKeySet("example.", []*dns.DNSKEY{rev.DNSKEY, z.zsk.DNSKEY}, 60)
	if len(ks.Keys) != 1 || ks.Keys[0].Tag != z.zsk.Tag {
		t.Errorf("trusted set keeps %d keys", len(ks.Keys))
	}
}

// Budget.IgnoreTime: signatures outside their validity period verify
// (a clock known to be wrong), and only those; a forged one still fails.
func TestIgnoreTime(t *testing.T) {
	z := newTZone(t, "example.", dns.ED25519)
	ds := z.ds(t, dns.SHA256)
	for _, tc := range []struct {
		name   string
		at     time.Time
		ignore bool
		want   Status
	}{
		{"in the window", t0, false, Secure},
		{"long before", t0.AddDate(-5, 0, 0), false, Bogus},
		{"long before, time ignored", t0.AddDate(-5, 0, 0), true, Secure},
		{"after expiry, time ignored", t0.AddDate(1, 0, 0), true, Secure},
	} {
		b := NewBudget(DefaultLimits())
		b.IgnoreTime = tc.ignore
		if _, res := VerifyDNSKEYs("example.", z.dnskeys, z.keySigs, ds, nil, tc.at, b); res.Status != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, res, tc.want)
		}
	}
	forged := dns.Copy(z.keySigs[0]).(*dns.RRSIG)
	forged.Signature = z.sign(t, z.dnskeys[:1])[0].Signature
	b := NewBudget(DefaultLimits())
	b.IgnoreTime = true
	if _, res := VerifyDNSKEYs("example.", z.dnskeys, []*dns.RRSIG{forged}, ds, nil, t0.AddDate(-5, 0, 0), b); res.Status != Bogus {
		t.Errorf("forged signature, time ignored: %v", res)
	}
}
