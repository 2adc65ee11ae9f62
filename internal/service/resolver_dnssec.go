package service

import (
	"fmt"
	"os"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnssec"
)

// trustAnchors builds the validator's anchors: those of cfg's trust-anchor
// files and extra, plus the built-in IANA root anchors unless one of them
// anchors the root itself (a lab, a private root), and cfg's negative
// trust anchors (RFC 7646).
func trustAnchors(cfg *config.Resolver, extra []dns.RR) (*dnssec.AnchorSet, error) {
	rrs := append([]dns.RR(nil), extra...)
	for _, file := range cfg.TrustAnchor {
		f, err := os.Open(file)
		if err != nil {
			return nil, fmt.Errorf("trust-anchor: %w", err)
		}
		got, err := dnssec.ParseAnchors(f, file)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("trust-anchor: %w", err)
		}
		rrs = append(rrs, got...)
	}
	root := false
	for _, rr := range rrs {
		root = root || dns.CanonicalName(rr.Header().Name) == "."
	}
	set := dnssec.NewAnchorSet()
	if !root {
		set = dnssec.DefaultAnchors()
	}
	for _, rr := range rrs {
		if err := set.Add(rr); err != nil {
			return nil, fmt.Errorf("trust-anchor: %w", err)
		}
	}
	for _, z := range cfg.Insecure {
		set.AddNegative(z)
	}
	return set, nil
}
