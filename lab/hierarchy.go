package lab

import (
	"embed"
	"fmt"
	"io/fs"
	"net/netip"
	"path"
	"sort"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/zone"
)

// embedded holds the lab's own hierarchy as ordinary zone files.
//
//go:embed zones/*.zone
var embedded embed.FS

// ZoneSuffix ends every zone file name; the rest of the name is the zone's
// origin ("example.com.zone" is example.com.), except RootFile.
const (
	ZoneSuffix = ".zone"
	RootFile   = "root" + ZoneSuffix
)

// Limits on a hierarchy, so that a user's --zones directory cannot make the
// lab use unbounded memory or time.
const (
	// maxZoneFiles: a lab is a teaching miniature; hundreds of zones already
	// make its map unreadable, and each costs a parse at startup.
	maxZoneFiles = 256
	// maxZoneFileBytes: the embedded files are a few KiB; 4 MiB allows a
	// sizeable user zone while bounding what one broken file can cost.
	maxZoneFileBytes = 4 << 20
	// maxRecords bounds the records of all zones together: ~300 bytes each
	// in memory, so at most ~60 MB, and a load time still near a second.
	maxRecords = 200_000
	// maxServers: servers listen on base+1 .. base+maxServers, and base+53 is
	// the resolver's address, so the servers must stay below it.
	maxServers = 50
	// resolverOffset puts the lab resolver at base+53 (127.53.0.53 by
	// default): easy to remember, and 53 is the DNS port.
	resolverOffset = 53
)

// Zones returns the lab's embedded hierarchy, one file per zone.
func Zones() fs.FS {
	sub, err := fs.Sub(embedded, "zones")
	if err != nil {
		panic("lab: embedded zones missing: " + err.Error()) // a build defect, not input
	}
	return sub
}

// Server is one lab name server: one address, possibly known by several
// names, serving every zone whose apex NS set names it.
type Server struct {
	Names    []string       // the NS names that resolve to this server, sorted
	Authored netip.Addr     // its IPv4 address in the zone files (a documentation address)
	Addr     netip.AddrPort // where it listens: a loopback address
	Zones    []string       // the origins it serves, parents first
}

// Name is the server's first name, used in maps and logs.
func (s Server) Name() string { return s.Names[0] }

// hierarchy is a parsed set of zone files and the servers they describe.
// The servers are not configured anywhere else: as on the internet, a
// zone's apex NS records say who serves it, and the A records for those
// names (authoritative or glue, in any zone) say where.
type hierarchy struct {
	origins  []string              // parents first
	files    map[string]string     // origin -> file name
	records  map[string][]dns.RR   // origin -> authored records
	servers  []Server              // ordered: root servers first
	byAddr   map[netip.Addr]int    // authored address -> index in servers
	names    map[string]netip.Addr // server name -> authored address
	warnings []string              // zone warnings, "file:line: warning: ..."
}

// originOf maps a file name to its zone's origin, or "" if the file is not
// a zone file by the naming convention.
func originOf(file string) (string, error) {
	if file == RootFile {
		return ".", nil
	}
	base, ok := strings.CutSuffix(file, ZoneSuffix)
	if !ok {
		return "", nil
	}
	origin := dnsname.Canonical(base)
	if base == "" || strings.HasSuffix(base, ".") {
		return "", fmt.Errorf("%s: want ORIGIN%s without a trailing dot, or %s for the root", file, ZoneSuffix, RootFile)
	}
	if _, ok := dns.IsDomainName(origin); !ok || strings.ContainsAny(base, " \t\\/") {
		return "", fmt.Errorf("%s: %q is not a domain name", file, base)
	}
	return origin, nil
}

// loadHierarchy reads every *.zone file at the top of fsys.
func loadHierarchy(fsys fs.FS) (*hierarchy, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("lab: reading zone directory: %w", err)
	}
	h := &hierarchy{
		files:   make(map[string]string),
		records: make(map[string][]dns.RR),
		byAddr:  make(map[netip.Addr]int),
		names:   make(map[string]netip.Addr),
	}
	budget := maxRecords
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		origin, err := originOf(e.Name())
		if err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
		if origin == "" {
			continue
		}
		if prev, dup := h.files[origin]; dup {
			return nil, fmt.Errorf("lab: %s and %s are both zone %s", prev, e.Name(), origin)
		}
		if len(h.files) == maxZoneFiles {
			return nil, fmt.Errorf("lab: more than %d zone files", maxZoneFiles)
		}
		rrs, problems, err := parseZoneFile(fsys, e.Name(), origin, &budget)
		if err != nil {
			return nil, err
		}
		for _, p := range problems {
			h.warnings = append(h.warnings, p.String())
		}
		h.files[origin] = e.Name()
		h.records[origin] = rrs
		h.origins = append(h.origins, origin)
	}
	if _, ok := h.files["."]; !ok {
		return nil, fmt.Errorf("lab: no %s: a hierarchy starts at the root zone", RootFile)
	}
	sort.Slice(h.origins, func(i, j int) bool { return parentsFirst(h.origins[i], h.origins[j]) })
	if err := h.findServers(); err != nil {
		return nil, err
	}
	return h, nil
}

// parseZoneFile loads one zone file with the zone package (parse and
// validate, $INCLUDE off: a hierarchy is a flat directory and a file must
// not reach outside it) and returns its records and warnings.
func parseZoneFile(fsys fs.FS, name, origin string, budget *int) ([]dns.RR, []zone.Problem, error) {
	st, err := fs.Stat(fsys, name)
	if err != nil {
		return nil, nil, fmt.Errorf("lab: %w", err)
	}
	if st.Size() > maxZoneFileBytes {
		return nil, nil, fmt.Errorf("lab: %s: %d bytes, more than the %d allowed", name, st.Size(), maxZoneFileBytes)
	}
	z, problems, err := zone.LoadFS(fsys, name, origin, zone.Options{MaxRecords: *budget})
	if err != nil {
		return nil, problems, fmt.Errorf("lab: %s: %w", name, err)
	}
	*budget -= z.Records
	if *budget <= 0 {
		return nil, problems, fmt.Errorf("lab: %s: the hierarchy has more than %d records", name, maxRecords)
	}
	rrs := make([]dns.RR, 0, z.Records)
	for _, owner := range z.Names() {
		for _, set := range z.Node(owner).Sets {
			rrs = append(rrs, set.RRs...)
		}
	}
	return rrs, problems, nil
}

// parentsFirst orders origins by depth, then by name, so the root comes
// first and a zone's parent before it.
func parentsFirst(a, b string) bool {
	da, db := dnsname.CountLabels(a), dnsname.CountLabels(b)
	if da != db {
		return da < db
	}
	return a < b
}

// findServers derives the servers from the zones' apex NS records.
func (h *hierarchy) findServers() error {
	// Every IPv4 address each name has anywhere in the hierarchy.
	addrs := make(map[string]map[netip.Addr]bool)
	for _, origin := range h.origins {
		for _, rr := range h.records[origin] {
			if a, ok := rr.(*dns.A); ok {
				ip, _ := netip.AddrFromSlice(a.A.To4())
				m := addrs[a.Hdr.Name]
				if m == nil {
					m = make(map[netip.Addr]bool)
					addrs[a.Hdr.Name] = m
				}
				m[ip] = true
			}
		}
	}
	for _, origin := range h.origins {
		var apexNS []string
		for _, rr := range h.records[origin] {
			if ns, ok := rr.(*dns.NS); ok && rr.Header().Name == origin {
				apexNS = append(apexNS, dnsname.Canonical(ns.Ns))
			}
		}
		if len(apexNS) == 0 {
			return fmt.Errorf("lab: %s: zone %s has no NS records at its apex, so no server serves it", h.files[origin], origin)
		}
		for _, name := range apexNS {
			set := addrs[name]
			if len(set) == 0 {
				return fmt.Errorf("lab: %s: name server %s of zone %s has no A record in any zone of the lab", h.files[origin], name, origin)
			}
			if len(set) > 1 {
				return fmt.Errorf("lab: name server %s has %d different IPv4 addresses; the lab runs one server per address and wants one per name", name, len(set))
			}
			var addr netip.Addr
			for a := range set {
				addr = a
			}
			i, ok := h.byAddr[addr]
			if !ok {
				if len(h.servers) == maxServers {
					return fmt.Errorf("lab: more than %d name servers", maxServers)
				}
				i = len(h.servers)
				h.byAddr[addr] = i
				h.servers = append(h.servers, Server{Authored: addr})
			}
			s := &h.servers[i]
			if !contains(s.Names, name) {
				s.Names = append(s.Names, name)
			}
			if !contains(s.Zones, origin) {
				s.Zones = append(s.Zones, origin)
			}
			h.names[name] = addr
		}
	}
	// Zones were visited parents first, so each server's Zones is ordered
	// and its first zone is its shallowest: order servers by that zone, then
	// by name, which puts the root servers first.
	for i := range h.servers {
		sort.Strings(h.servers[i].Names)
	}
	sort.SliceStable(h.servers, func(i, j int) bool {
		a, b := h.servers[i], h.servers[j]
		if a.Zones[0] != b.Zones[0] {
			return parentsFirst(a.Zones[0], b.Zones[0])
		}
		return a.Names[0] < b.Names[0]
	})
	for i, s := range h.servers {
		h.byAddr[s.Authored] = i
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// assign gives server i the address base+i+1 and the port.
func (h *hierarchy) assign(base netip.Addr, port uint16) error {
	if !base.Is4() || !base.IsLoopback() {
		return fmt.Errorf("lab: listen base %s: want an IPv4 loopback address such as 127.53.0.0", base)
	}
	b := base.As4()
	if int(b[3])+resolverOffset > 255 {
		return fmt.Errorf("lab: listen base %s: the last octet must leave room for base+%d", base, resolverOffset)
	}
	for i := range h.servers {
		a := b
		a[3] += byte(i + 1)
		h.servers[i].Addr = netip.AddrPortFrom(netip.AddrFrom4(a), port)
	}
	return nil
}

// served returns the records of origin as the lab serves them: every A
// record holding a server's authored address now holds the loopback
// address the server listens on, so referrals lead where the servers
// really are; AAAA records of server names are left out, because IPv6
// loopback has a single address (::1) and cannot tell servers apart.
func (h *hierarchy) served(origin string) []dns.RR {
	src := h.records[origin]
	out := make([]dns.RR, 0, len(src))
	for _, rr := range src {
		switch v := rr.(type) {
		case *dns.A:
			ip, _ := netip.AddrFromSlice(v.A.To4())
			if i, ok := h.byAddr[ip]; ok {
				c := dns.Copy(v).(*dns.A)
				c.A = h.servers[i].Addr.Addr().AsSlice()
				out = append(out, c)
				continue
			}
		case *dns.AAAA:
			if _, ok := h.names[v.Hdr.Name]; ok {
				continue
			}
		}
		out = append(out, dns.Copy(rr))
	}
	return out
}

// file returns the path of origin's file inside the hierarchy.
func (h *hierarchy) file(origin string) string { return path.Clean(h.files[origin]) }
