package service

import (
	"crypto/x509"
	"fmt"

	"github.com/rootline-dns/rootline/internal/acl"
	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/tsig"
	"github.com/rootline-dns/rootline/internal/xfr"
)

// secondaryZone is sc as package xfr keeps it; primaries reached over
// TLS trust roots (nil: the system's).
func secondaryZone(cfg *config.Auth, keys *tsig.Keyring, roots *x509.CertPool, sc config.AuthSecondary) xfr.SecondaryZone {
	return xfr.SecondaryZone{Origin: sc.Origin, Primaries: remotes(keys, roots, sc.Primaries),
		AllowNotify: append(acl.List(cfg.AllowNotify), sc.AllowNotify...)}
}

// reloadSecondaries follows a reloaded configuration's secondary zones:
// new ones are transferred, removed ones are no longer served (their
// copies in the data dir deleted), and one whose primaries, keys or
// NOTIFY list changed is set up anew. Catalog zones consumed are fixed at
// start (their members follow the catalog itself).
func (s *served) reloadSecondaries(cfg *config.Auth) {
	if s.second == nil {
		if len(cfg.Secondaries) > 0 {
			s.log.Warn("secondary zones need a restart: the server started without replication")
		}
		return
	}
	keys, _ := cfg.Keyring() // validated
	want := map[string]xfr.SecondaryZone{}
	for _, sc := range cfg.Secondaries {
		o := dnsname.Canonical(sc.Origin)
		if sc.Catalog {
			if _, ok := s.cat.consumed[o]; !ok {
				s.log.Warn("a catalog zone added by reload needs a restart", "catalog", o)
			}
			continue
		}
		want[o] = secondaryZone(cfg, keys, s.roots, sc)
	}
	added, removed, changed := 0, 0, 0
	for o, z := range want {
		old, ok := s.secCfg[o]
		switch {
		case !ok:
			if s.second.AddZone(z) {
				added++
			} else {
				s.log.Warn("secondary zone already served otherwise (catalog member?): ignored", "zone", o)
				continue
			}
		case fmt.Sprint(old) != fmt.Sprint(z):
			s.second.RemoveZone(o)
			s.second.AddZone(z)
			changed++
		}
		s.secCfg[o] = z
	}
	for o := range s.secCfg {
		if _, ok := want[o]; !ok {
			s.second.RemoveZone(o)
			delete(s.secCfg, o)
			removed++
		}
	}
	if added+removed+changed > 0 {
		s.log.Info("secondary zones reloaded", "added", added, "removed", removed, "changed", changed, "zones", len(s.secCfg))
	}
}
