package service

import (
	"log/slog"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/xfr"
	"github.com/rootline-dns/rootline/internal/zone"
)

// serialDiscipline looks at each zone file just read whose serial is not
// ahead of the version served. Secondaries follow serials only (RFC 1996
// 4.7, RFC 1995 2), so a change under an unmoved serial reaches none of
// them:
//   - content unchanged: the served version stays (with a serial the
//     server moved, it would otherwise fall back to the file's);
//   - content changed, with a serial policy (config.SerialIncrement,
//     SerialUnixTime, SerialDateSerial: Knot's serial-policy): the new
//     content is served under the next serial, which journals it and
//     notifies secondaries;
//   - content changed, no policy: served as the file has it, with a
//     warning naming both serials.
//
// Zones the server signs are left to the signer, which moves their
// serials itself; zones signed outside cannot have their serial moved
// (the SOA's signature would break) and get the warning. loaded is
// changed in place and returned; old is what is served.
func serialDiscipline(log *slog.Logger, cfg *config.Auth, loaded, old []*zone.Zone, now time.Time) []*zone.Zone {
	prev := make(map[string]*zone.Zone, len(old))
	for _, z := range old {
		prev[z.Origin] = z
	}
	for i, z := range loaded {
		o := prev[z.Origin]
		if o == nil || o == z || xfr.SerialLess(o.SOA.Serial, z.SOA.Serial) {
			continue
		}
		zc, ok := zoneConfig(cfg, z.Origin)
		if !ok || zc.Sign.On() {
			continue
		}
		policy := zc.Policy(cfg.SerialPolicy)
		if !changed(o, z) {
			if o.SOA.Serial == z.SOA.Serial || policy != "" {
				loaded[i] = o
			}
			continue
		}
		signedOutside := len(z.Node(z.Origin).Get(dns.TypeRRSIG)) > 0
		if policy == "" || signedOutside {
			if o.SOA.Serial == z.SOA.Serial || policy != "" {
				// (A serial that went backwards is Primary.Record's
				// warning.)
				log.Warn("zone changed but its serial did not move: secondaries will not see the change",
					"zone", z.Origin, "serial", z.SOA.Serial, "served", o.SOA.Serial, "signed", signedOutside)
			}
			continue
		}
		serial := nextSerial(policy, o.SOA.Serial, now)
		nz, err := withSerial(z, serial)
		if err != nil {
			log.Error("zone serial not moved", "zone", z.Origin, "err", err)
			continue
		}
		log.Info("zone changed without a new serial: serial moved", "zone", z.Origin, "serial", z.SOA.Serial,
			"served", o.SOA.Serial, "new", serial, "policy", policy)
		loaded[i] = nz
	}
	return loaded
}

// zoneConfig finds the file zone at origin (canonical).
func zoneConfig(cfg *config.Auth, origin string) (config.AuthZone, bool) {
	for _, zc := range cfg.Zones {
		if dnsname.Canonical(zc.Origin) == origin {
			return zc, true
		}
	}
	return config.AuthZone{}, false
}

// changed reports whether b holds other data than a, the SOA's serial
// aside. The comparison walks both zones (xfr.Compute), which a reload
// has just paid for in parsing.
func changed(a, b *zone.Zone) bool {
	sa, sb := *a.SOA, *b.SOA
	sb.Serial = sa.Serial
	if sa.Hdr.Ttl != sb.Hdr.Ttl || !dns.IsDuplicate(&sa, &sb) {
		return true
	}
	d := xfr.Compute(a, b)
	return len(d.Added)+len(d.Deleted) > 0
}

// nextSerial is the serial after served under policy (Knot's
// serial-policy): increment adds one; unixtime takes the Unix time if that
// is ahead, else adds one; dateserial takes today's YYYYMMDD00 (UTC) if
// that is ahead, else adds one. Comparisons are RFC 1982's.
func nextSerial(policy string, served uint32, now time.Time) uint32 {
	var candidate uint32
	switch policy {
	case config.SerialUnixTime:
		candidate = uint32(now.Unix())
	case config.SerialDateSerial:
		y, m, d := now.UTC().Date()
		candidate = uint32(y*1_000_000 + int(m)*10_000 + d*100)
	}
	if candidate != 0 && xfr.SerialLess(served, candidate) {
		return candidate
	}
	return served + 1
}

// withSerial is z under another serial: the same records (the version
// just read, not yet served, so they may be given away), a new SOA.
func withSerial(z *zone.Zone, serial uint32) (*zone.Zone, error) {
	rrs := make([]dns.RR, 0, z.Records)
	for _, name := range z.Names() {
		for _, set := range z.Node(name).Sets {
			if set.Type != dns.TypeSOA {
				rrs = append(rrs, set.RRs...)
			}
		}
	}
	soa := dns.Copy(z.SOA).(*dns.SOA)
	soa.Serial = serial
	return zone.New(z.Origin, append(rrs, soa))
}
