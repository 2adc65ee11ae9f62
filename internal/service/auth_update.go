package service

import (
	"context"
	"errors"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/acl"
	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/update"
	"github.com/rootline-dns/rootline/internal/xfr"
	"github.com/rootline-dns/rootline/internal/zone"
)

// updater applies dynamic updates (RFC 2136, RFC 3007) to the zones
// served from files: checked against the access lists and update
// policies, computed, journaled (synced to disk with --data-dir) and only
// then served and notified, one update at a time.
type updater struct {
	s  *served
	mu sync.Mutex // one update at a time: each starts from the last one's result
	// since counts, by origin, the updates journaled since the last
	// snapshot (guarded by mu).
	since map[string]int
}

// Snapshots of updated zones: often enough that the journal, which keeps
// xfr.DefaultJournalVersions versions, always still holds every update
// since the last one, and at once after a large update, which the
// journal may not keep at all.
const (
	snapshotEvery   = xfr.DefaultJournalVersions / 4
	snapshotRecords = 1000
)

// ServeUpdate answers an UPDATE. The TSIG middleware has verified the
// signature (req.TSIGKey) or answered the failure already.
func (u *updater) ServeUpdate(_ context.Context, req *server.Request, m *dns.Msg, out []byte) []byte {
	s := u.s
	reply := func(rcode int) []byte {
		r := new(dns.Msg)
		r.SetRcode(m, rcode)
		b, err := r.PackBuffer(out)
		if err != nil {
			return nil
		}
		return b
	}
	if len(m.Question) != 1 || m.Question[0].Qtype != dns.TypeSOA {
		return reply(dns.RcodeFormatError)
	}
	origin := dnsname.Canonical(m.Question[0].Name)
	client := acl.Client{Addr: req.Remote.Addr().Unmap(), Key: req.TSIGKey}
	log := s.log.With("zone", origin, "client", req.Remote.Addr(), "key", strings.TrimSuffix(req.TSIGKey, "."))

	u.mu.Lock()
	defer u.mu.Unlock()
	cfg := s.config()
	z := s.fileZone(origin)
	zc, ok := zoneConfig(cfg, origin)
	switch {
	case z == nil && s.second != nil && s.second.Zone(origin) != nil:
		log.Info("update refused: a secondary zone (send it to the primary)")
		return reply(dns.RcodeRefused)
	case z == nil || !ok:
		return reply(dns.RcodeNotAuth)
	case zc.Sign.Keys != "":
		log.Warn("update refused: zones signed by this server do not take updates yet")
		return reply(dns.RcodeRefused)
	}
	whole := acl.List(cfg.AllowUpdate).Allows(client) || acl.List(zc.AllowUpdate).Allows(client)
	if !whole && !policyAllows(zc.UpdatePolicy, origin, client.Key, m.Ns) {
		log.Info("update refused by the access lists")
		return reply(dns.RcodeRefused)
	}
	policy := zc.Policy(cfg.SerialPolicy)
	if policy == "" {
		policy = config.SerialIncrement
	}
	o := update.Compute(z, m, func(old uint32) uint32 { return nextSerial(policy, old, time.Now()) })
	if o.Rcode != dns.RcodeSuccess {
		log.Info("update not applied", "rcode", dns.RcodeToString[o.Rcode], "reason", o.Reason)
		return reply(o.Rcode)
	}
	if !o.Changed {
		return reply(dns.RcodeSuccess)
	}
	nz, err := xfr.Patch(z, o.Diff)
	if err != nil {
		log.Warn("update refused: the zone would be invalid", "err", err)
		return reply(dns.RcodeRefused)
	}
	// Durable before it is served or acknowledged: with --data-dir the
	// journal entry is synced to disk here.
	if err := s.primary.Journal(origin).Add(o.Diff); err != nil {
		log.Error("update not applied: journal write failed", "err", err)
		return reply(dns.RcodeServerFailure)
	}
	if s.store != nil {
		if u.since == nil {
			u.since = map[string]int{}
		}
		u.since[origin]++
		if u.since[origin] >= snapshotEvery || o.Diff.Size() > snapshotRecords {
			if err := s.store.SaveDynamic(nz, s.fileSerialOf(origin)); err != nil {
				log.Error("update not applied: snapshot failed", "err", err)
				return reply(dns.RcodeServerFailure)
			}
			u.since[origin] = 0
		}
	}
	s.replaceFile(nz)
	log.Info("update applied", "serial", nz.SOA.Serial, "deleted", len(o.Diff.Deleted), "added", len(o.Diff.Added))
	return reply(dns.RcodeSuccess)
}

// policyAllows reports whether every record of an update section is
// granted to key by rules (BIND's update-policy, simplified).
func policyAllows(rules []config.UpdateRule, origin, key string, records []dns.RR) bool {
	if key == "" || len(rules) == 0 || len(records) == 0 {
		return false
	}
	for _, rr := range records {
		if !ruleFor(rules, origin, key, rr) {
			return false
		}
	}
	return true
}

func ruleFor(rules []config.UpdateRule, origin, key string, rr dns.RR) bool {
	h := rr.Header()
	name := dnsname.Canonical(h.Name)
	for _, r := range rules {
		if dnsname.Canonical(dnsname.Fqdn(r.Key)) != key {
			continue
		}
		switch r.Match {
		case config.UpdateMatchZone:
			if !dnsname.IsSubdomain(name, origin) {
				continue
			}
		case config.UpdateMatchName:
			if !dnsname.Equal(name, dnsname.Fqdn(r.Name)) {
				continue
			}
		default: // subdomain
			if !dnsname.IsSubdomain(name, dnsname.Fqdn(r.Name)) {
				continue
			}
		}
		if typeGranted(r.Types, h.Rrtype) {
			return true
		}
	}
	return false
}

// typeGranted: the rule's types, or every type but SOA and NS (the zone's
// own), as BIND's ANY does; "delete all" (type ANY) needs an empty list.
func typeGranted(types []string, t uint16) bool {
	if len(types) == 0 {
		return t != dns.TypeSOA && t != dns.TypeNS
	}
	for _, s := range types {
		if dns.StringToType[strings.ToUpper(s)] == t {
			return true
		}
	}
	return false
}

// fileZone is the served version of file zone origin, nil if none.
func (s *served) fileZone(origin string) *zone.Zone {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, z := range s.files {
		if z.Origin == origin {
			return z
		}
	}
	return nil
}

// fileSerialOf is the serial of the zone file origin's served version
// grew from.
func (s *served) fileSerialOf(origin string) uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fileSerial[origin]
}

// replaceFile serves nz in place of the file zone of its origin (already
// journaled), and notifies.
func (s *served) replaceFile(nz *zone.Zone) {
	s.mu.Lock()
	files := make([]*zone.Zone, len(s.files))
	for i, z := range s.files {
		if z.Origin == nz.Origin {
			z = nz
		}
		files[i] = z
	}
	s.files = files
	s.mu.Unlock()
	s.publish()
	s.sendNotify(nz)
}

// replayUpdates applies the journaled versions that follow z's serial: the
// updates made since the zone file was written, after a restart or a
// reload of an unchanged file. A file whose serial moved past the journal
// wins: its edit replaces the updates, as a BIND zone thawed after an edit.
func (s *served) replayUpdates(z *zone.Zone) *zone.Zone {
	if s.primary == nil {
		return z
	}
	s.mu.Lock()
	if s.fileSerial == nil {
		s.fileSerial = map[string]uint32{}
	}
	s.fileSerial[z.Origin] = z.SOA.Serial
	s.mu.Unlock()
	base := z
	if s.store != nil {
		snap, err := s.store.LoadDynamic(z.Origin, z.SOA.Serial, 0)
		switch {
		case err == nil && xfr.SerialLess(z.SOA.Serial, snap.SOA.Serial):
			base = snap
		case err != nil && !errors.Is(err, os.ErrNotExist):
			s.log.Error("snapshot of updates unusable", "zone", z.Origin, "err", err)
		}
	}
	diffs := s.primary.Journal(z.Origin).After(base.SOA.Serial)
	if len(diffs) == 0 {
		if base != z {
			s.log.Info("updates applied from the snapshot", "zone", z.Origin, "from", z.SOA.Serial, "serial", base.SOA.Serial)
		}
		return base
	}
	nz, err := xfr.Patch(base, diffs...)
	if err != nil {
		s.log.Error("journal does not apply to the zone file: serving the file", "zone", z.Origin, "serial", z.SOA.Serial, "err", err)
		return z
	}
	s.log.Info("journaled updates applied", "zone", z.Origin, "from", z.SOA.Serial, "serial", nz.SOA.Serial, "versions", len(diffs))
	return nz
}
