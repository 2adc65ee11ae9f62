package replay

import (
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/resolver"
)

// This file maps the DNSSEC part of a scenario's configuration onto the
// resolver's: Unbound validates when its module-config names the
// validator (its default, "validator iterator") and a trust anchor is
// configured; Rootline's resolver validates with Config.DNSSEC and the
// anchors given there. Without an anchor Unbound's validator judges
// nothing (no AD), which is Rootline with validation off: giving Rootline
// no anchors would mean the IANA root's, not none.

// epoch is where the replay clock starts when the scenario does not fix
// the validation date.
var epoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// dnssecSkip reports why the DNSSEC configuration of s cannot be mapped,
// or "". Called by Skip after the option names have been checked.
func (s *Scenario) dnssecSkip() string {
	if d := first(s.Options["server:val-override-date"]); d == "-1" {
		return "val-override-date -1: Unbound ignores signature dates, Rootline always checks them (RFC 4035 5.3.1)"
	}
	if _, err := s.start(); err != nil {
		return err.Error()
	}
	sec, err := s.dnssecConfig()
	if err != nil {
		return err.Error()
	}
	if sec != nil {
		if why := s.unverifiable(sec.Anchors); why != "" {
			return why
		}
	}
	for k, want := range onlyValue {
		if v := s.Options[k]; len(v) > 0 && v[0] != want {
			return fmt.Sprintf("%s %s: Rootline behaves as %q", strings.TrimPrefix(k, "server:"), v[0], want)
		}
	}
	return ""
}

// onlyValue are options that the replay accepts only with the value that
// is Rootline's fixed behaviour.
var onlyValue = map[string]string{
	// Rootline refuses answers a signed zone sends unsigned (RFC 4035
	// 5: an attacker stripping signatures must not make data insecure).
	"server:harden-dnssec-stripped": "yes",
	// RFC 6840 5.11: one supported algorithm's valid signature is
	// enough, which is Unbound's harden-algo-downgrade no.
	"server:harden-algo-downgrade": "no",
	// Unbound's fake-sha1 accepts SHA-1 signatures where its crypto
	// library refuses them; Go's verifies them, so yes changes nothing.
	"server:fake-sha1": "yes",
}

// start is when the replay clock starts: the scenario's
// val-override-date (Unbound checks signature validity against it; its
// RRSIGs are from the time the scenario was written), else epoch. The
// clock then moves with TIME_PASSES, where Unbound's date stays fixed;
// no scenario steps over a signature's expiry.
func (s *Scenario) start() (time.Time, error) {
	d := first(s.Options["server:val-override-date"])
	d = strings.Trim(d, "'\"")
	if d == "" || d == "0" {
		return epoch, nil
	}
	t, err := time.Parse("20060102150405", d)
	if err != nil {
		return time.Time{}, fmt.Errorf("val-override-date %q is not YYYYMMDDHHmmSS", d)
	}
	return t, nil
}

// dnssecConfig is the resolver's DNSSEC configuration: nil when the
// scenario does not validate.
func (s *Scenario) dnssecConfig() (*resolver.DNSSEC, error) {
	if mc := first(s.Options["server:module-config"]); mc != "" && !strings.Contains(mc, "validator") {
		return nil, nil
	}
	tas := s.Options["server:trust-anchor"]
	if len(tas) == 0 {
		if len(s.Options["server:domain-insecure"]) > 0 {
			return nil, fmt.Errorf("domain-insecure without a trust anchor")
		}
		return nil, nil
	}
	set := dnssec.NewAnchorSet()
	for _, ta := range tas {
		rr, err := dns.NewRR("$TTL 3600\n" + strings.Trim(ta, "'\""))
		if err != nil || rr == nil {
			return nil, fmt.Errorf("trust-anchor %q does not parse: %v", ta, err)
		}
		if err := set.Add(rr); err != nil {
			return nil, fmt.Errorf("trust-anchor: %w", err)
		}
	}
	// Unbound's domain-insecure is a negative trust anchor (RFC 7646).
	for _, z := range s.Options["server:domain-insecure"] {
		set.AddNegative(dns.Fqdn(strings.Trim(z, "'\"")))
	}
	return &resolver.DNSSEC{Anchors: set}, nil
}

// compareEDE checks the Extended DNS Error (RFC 8914) a check names with
// Unbound's "MATCH ede=N".
func compareEDE(want *Entry, got *dns.Msg) string {
	code := -1
	for m := range want.Match {
		if c, ok := strings.CutPrefix(m, "ede="); ok {
			if _, err := fmt.Sscan(c, &code); err != nil {
				return fmt.Sprintf("bad MATCH %s", m)
			}
		}
	}
	if code < 0 {
		return ""
	}
	var have []int
	if opt := got.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				if int(e.InfoCode) == code {
					return ""
				}
				have = append(have, int(e.InfoCode))
			}
		}
	}
	return fmt.Sprintf("EDE %v, want %d", have, code)
}

// unverifiable reports why Rootline cannot validate what a scenario
// expects to be validated, or "": a trust anchor only in DSA, or RSA keys
// Go refuses. Replayed, such a scenario would pass or fail for that reason
// alone (every zone insecure, or every key unusable and its data bogus),
// whatever it tests.
func (s *Scenario) unverifiable(anchors *dnssec.AnchorSet) string {
	for _, z := range anchors.Zones() {
		a, _ := anchors.Lookup(z)
		dsa := len(a.DS)+len(a.Keys) > 0
		for _, d := range a.DS {
			dsa = dsa && isDSA(d.Algorithm)
		}
		for _, k := range a.Keys {
			dsa = dsa && isDSA(k.Algorithm)
		}
		if dsa {
			return fmt.Sprintf("trust anchor %s is DSA (algorithm 3): Unbound validates it, RFC 8624 3.1 forbids validating DSA and Rootline treats the zone as insecure", z)
		}
	}
	for _, r := range s.Ranges {
		for _, e := range r.Entries {
			for _, sec := range [][]dns.RR{e.Msg.Answer, e.Msg.Ns, e.Msg.Extra} {
				for _, rr := range sec {
					if k, ok := rr.(*dns.DNSKEY); ok && isRSA(k.Algorithm) {
						if _, err := dnssec.PublicKey(k); err != nil {
							return fmt.Sprintf("DNSKEY %s/%d unusable to Rootline (%v)", k.Hdr.Name, k.KeyTag(), err)
						}
					}
				}
			}
		}
	}
	return ""
}

func isDSA(alg uint8) bool { return alg == dns.DSA || alg == dns.DSANSEC3SHA1 }

func isRSA(alg uint8) bool {
	return alg == dns.RSASHA1 || alg == dns.RSASHA1NSEC3SHA1 || alg == dns.RSASHA256 || alg == dns.RSASHA512
}
