package validatetest

import (
	"fmt"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
)

// SignZone signs one zone, given as zone-file text with $ORIGIN set to
// origin, with keys the caller keeps (Build makes fresh keys for every
// hierarchy): for tests of key rollovers, where the same keys sign
// successive versions of a zone and a key's flags (REVOKE) change.
func SignZone(origin, text string, keys []*dnssec.Key, v dnssec.Validity) ([]dns.RR, error) {
	origin = dns.CanonicalName(origin)
	rrs, err := parse(origin, text)
	if err != nil {
		return nil, err
	}
	signed, err := dnssec.SignZone(origin, nodes(origin, rrs), keys, dnssec.SignOptions{Validity: v})
	if err != nil {
		return nil, fmt.Errorf("validatetest: sign %s: %w", origin, err)
	}
	var out []dns.RR
	signed.Records(func(rr dns.RR) { out = append(out, rr) })
	return out, nil
}
