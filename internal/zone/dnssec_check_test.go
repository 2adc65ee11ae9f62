package zone

import (
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
)

const checkZoneText = `$ORIGIN example.test.
$TTL 3600
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@ IN NS ns1
ns1 IN A 192.0.2.53
www IN A 192.0.2.10
a.b.ent IN TXT "deep"
sub IN NS ns.sub
ns.sub IN A 192.0.2.54
`

// signedZone signs checkZoneText at t0 and returns its records.
func signedZone(t *testing.T, nsec3 *dnssec.NSEC3Params, t0 time.Time) []dns.RR {
	t.Helper()
	entries, problems := Parse(strings.NewReader(checkZoneText), "example.test.", "t.zone", Options{})
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	var rrs []dns.RR
	for _, e := range entries {
		rrs = append(rrs, e.RR)
	}
	plain, err := New("example.test.", rrs)
	if err != nil {
		t.Fatal(err)
	}
	k, err := dnssec.Generate("example.test.", dns.ECDSAP256SHA256, true, t0)
	if err != nil {
		t.Fatal(err)
	}
	s, err := dnssec.SignZone("example.test.", plain.SignerNodes(), []*dnssec.Key{k}, dnssec.SignOptions{
		Validity: dnssec.Validity{Inception: t0, Expiration: t0.Add(24 * time.Hour)}, NSEC3: nsec3})
	if err != nil {
		t.Fatal(err)
	}
	var out []dns.RR
	s.Records(func(rr dns.RR) { out = append(out, dns.Copy(rr)) })
	return out
}

func TestCheckDNSSEC(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	drop := func(typ uint16, owner string) func([]dns.RR) []dns.RR {
		return func(rrs []dns.RR) []dns.RR {
			var out []dns.RR
			for _, rr := range rrs {
				if rr.Header().Rrtype == typ && strings.HasPrefix(rr.Header().Name, owner) {
					continue
				}
				out = append(out, rr)
			}
			return out
		}
	}
	tests := []struct {
		name  string
		nsec3 *dnssec.NSEC3Params
		at    time.Time
		edit  func([]dns.RR) []dns.RR
		want  string // "" = no finding
	}{
		{"nsec ok", nil, t0.Add(time.Hour), nil, ""},
		{"nsec3 ok", &dnssec.NSEC3Params{}, t0.Add(time.Hour), nil, ""},
		{"opt-out ok", &dnssec.NSEC3Params{OptOut: true}, t0.Add(time.Hour), nil, ""},
		{"expired", nil, t0.Add(48 * time.Hour), nil, "expired at"},
		{"not yet valid", nil, t0.Add(-time.Hour), nil, "is not yet valid"},
		{"unsigned", nil, t0.Add(time.Hour), func(rrs []dns.RR) []dns.RR {
			var out []dns.RR
			for _, rr := range rrs {
				if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == dns.TypeA && s.Hdr.Name == "www.example.test." {
					continue
				}
				out = append(out, rr)
			}
			return out
		}, "www.example.test./A has no valid signature"},
		{"nsec missing", nil, t0.Add(time.Hour), drop(dns.TypeNSEC, "www."), "no NSEC at www.example.test."},
		{"nsec3 missing", &dnssec.NSEC3Params{}, t0.Add(time.Hour), func(rrs []dns.RR) []dns.RR {
			for i, rr := range rrs {
				if rr.Header().Rrtype == dns.TypeNSEC3 {
					return append(rrs[:i:i], rrs[i+1:]...)
				}
			}
			return rrs
		}, "no NSEC3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rrs := signedZone(t, tt.nsec3, t0)
			if tt.edit != nil {
				rrs = tt.edit(rrs)
			}
			z, err := New("example.test.", rrs)
			if err != nil {
				t.Fatal(err)
			}
			if !z.IsSigned() {
				t.Fatal("IsSigned false")
			}
			var msgs []string
			for _, f := range CheckDNSSEC(z, tt.at) {
				msgs = append(msgs, f.Msg)
			}
			all := strings.Join(msgs, "\n")
			if (tt.want == "") != (len(msgs) == 0) || !strings.Contains(all, tt.want) {
				t.Errorf("findings:\n%s\nwant %q", all, tt.want)
			}
		})
	}
}
