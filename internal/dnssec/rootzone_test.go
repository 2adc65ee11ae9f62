package dnssec

import (
	"os"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// rootData is a signed root zone read into RRsets and their RRSIGs.
type rootData struct {
	sets map[string][]dns.RR // "name type" -> RRset
	sigs map[string][]*dns.RRSIG
	nsec []*dns.NSEC
}

func setKey(name string, t uint16) string { return dns.CanonicalName(name) + " " + dns.TypeToString[t] }

func loadRoot(t *testing.T, file string) *rootData {
	t.Helper()
	f, err := os.Open(corpusFile(t, "root-zone", file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	d := &rootData{sets: map[string][]dns.RR{}, sigs: map[string][]*dns.RRSIG{}}
	zp := dns.NewZoneParser(f, ".", file)
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		if sig, ok := rr.(*dns.RRSIG); ok {
			k := setKey(h.Name, sig.TypeCovered)
			d.sigs[k] = append(d.sigs[k], sig)
			continue
		}
		if n, ok := rr.(*dns.NSEC); ok {
			d.nsec = append(d.nsec, n)
		}
		k := setKey(h.Name, h.Rrtype)
		d.sets[k] = append(d.sets[k], rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *rootData) set(t *testing.T, name string, typ uint16) ([]dns.RR, []*dns.RRSIG) {
	t.Helper()
	k := setKey(name, typ)
	if len(d.sets[k]) == 0 {
		t.Fatalf("root zone has no %s", k)
	}
	return d.sets[k], d.sigs[k]
}

// The real signed root zones validate against the real root KSK at their
// own dates, and are bogus with EDE 7 once their signatures expire.
func TestRealRootZones(t *testing.T) {
	tests := []struct {
		file   string
		ksk    uint16
		extra  string // an anchor valid at the zone's date but no longer built in
		tld    string // a TLD with DS
		absent string // a TLD that did not exist
	}{
		// KSK-2010 (19036) signed the root until the 2018 rollover and was
		// revoked in 2019: the 2017 zone needs it as an extra anchor, for
		// this test only. Its DS is the one IANA published in 2010.
		{"root.zone.2017082100", 19036, ". IN DS 19036 8 2 49AAC11D7B6F6446702E54A1607371607A1A41855200FD2CE1CDDE32F24E8FB5", "com.", "rootline-nonexistent."},
		{"root.zone.2023051100", 20326, "", "org.", "rootline-nonexistent."},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			d := loadRoot(t, tt.file)
			ds := RootAnchors()
			if tt.extra != "" {
				ds = append(ds, mustRR(t, tt.extra).(*dns.DS))
			}
			_, soaSigs := d.set(t, ".", dns.TypeSOA)
			at := time.Unix(int64(soaSigs[0].Inception), 0).Add(time.Hour)
			b := NewBudget(DefaultLimits())

			keys, keySigs := d.set(t, ".", dns.TypeDNSKEY)
			ks, res := VerifyDNSKEYs(".", keys, keySigs, ds, nil, at, b)
			if res.Status != Secure {
				t.Fatalf("root DNSKEY at %s: %v", at, res)
			}
			if keySigs[0].KeyTag != tt.ksk {
				t.Errorf("DNSKEY signed by %d, want %d", keySigs[0].KeyTag, tt.ksk)
			}
			// Without the extra anchor the 2017 zone is not secure: the
			// built-in KSK-2017 was published but did not sign yet.
			if tt.extra != "" {
				if _, res := VerifyDNSKEYs(".", keys, keySigs, RootAnchors(), nil, at, NewBudget(DefaultLimits())); res.Status == Secure {
					t.Error("2017 zone secure with the built-in anchors alone")
				}
			}
			for _, rrset := range [][2]any{{".", dns.TypeSOA}, {".", dns.TypeNS}, {tt.tld, dns.TypeDS}} {
				rrs, sigs := d.set(t, rrset[0].(string), rrset[1].(uint16))
				r := ValidateRRset(rrs, sigs, ks, at, b)
				if r.Status != Secure {
					t.Errorf("%s %s: %v", rrset[0], dns.TypeToString[rrset[1].(uint16)], r.Result)
				}
				if r.TTL == 0 || r.TTL > rrs[0].Header().Ttl {
					t.Errorf("%s TTL %d", rrset[0], r.TTL)
				}
			}

			// NXDOMAIN for a TLD that does not exist: the NSEC covering it
			// and the one covering "*.", each validated first.
			p := Proof{Zone: "."}
			for _, name := range []string{tt.absent, "*."} {
				var cover *dns.NSEC
				for _, n := range d.nsec {
					if Covers(n, name) {
						cover = n
						break
					}
				}
				if cover == nil {
					t.Fatalf("no NSEC covers %s", name)
				}
				rrs, sigs := d.set(t, cover.Hdr.Name, dns.TypeNSEC)
				if r := ValidateRRset(rrs, sigs, ks, at, b); r.Status != Secure {
					t.Fatalf("NSEC %s: %v", cover.Hdr.Name, r.Result)
				}
				p.NSEC = append(p.NSEC, cover)
			}
			if r := p.NXDomain(tt.absent, b); r.Status != Secure {
				t.Errorf("NXDOMAIN %s: %v", tt.absent, r)
			}
			if r := p.NXDomain(tt.tld, b); r.Status != Bogus {
				t.Errorf("NXDOMAIN for existing %s: %v", tt.tld, r)
			}
			// A TLD without DS, if the zone has one: an unsigned delegation.
			for _, n := range d.nsec {
				if n.Hdr.Name == "." || hasType(n.TypeBitMap, dns.TypeDS) {
					continue
				}
				rrs, sigs := d.set(t, n.Hdr.Name, dns.TypeNSEC)
				if r := ValidateRRset(rrs, sigs, ks, at, b); r.Status != Secure {
					t.Fatalf("NSEC %s: %v", n.Hdr.Name, r.Result)
				}
				if r := (Proof{Zone: ".", NSEC: []*dns.NSEC{n}}).NoDS(n.Hdr.Name, b); r.Status != Secure {
					t.Errorf("unsigned TLD %s: %v", n.Hdr.Name, r)
				}
				t.Logf("unsigned TLD %s proven", n.Hdr.Name)
				break
			}
			t.Logf("validated at %s with %d verifications", at.UTC().Format(time.RFC3339), b.Verifications)

			// After the DNSKEY signatures expire: bogus, EDE 7.
			late := time.Unix(int64(keySigs[0].Expiration), 0).Add(24 * time.Hour)
			if _, res := VerifyDNSKEYs(".", keys, keySigs, ds, nil, late, NewBudget(DefaultLimits())); res.Status != Bogus || res.EDE != EDESignatureExpired {
				t.Errorf("at %s: %v, want bogus EDE 7", late, res)
			}
			rrs, sigs := d.set(t, ".", dns.TypeSOA)
			if r := ValidateRRset(rrs, sigs, ks, late, NewBudget(DefaultLimits())); r.Status != Bogus || r.EDE != EDESignatureExpired {
				t.Errorf("SOA at %s: %v, want bogus EDE 7", late, r.Result)
			}
			// Before inception: EDE 8.
			early := time.Unix(int64(keySigs[0].Inception), 0).Add(-24 * time.Hour)
			if _, res := VerifyDNSKEYs(".", keys, keySigs, ds, nil, early, NewBudget(DefaultLimits())); res.Status != Bogus || res.EDE != EDESignatureNotYetValid {
				t.Errorf("at %s: %v, want bogus EDE 8", early, res)
			}
		})
	}
}
