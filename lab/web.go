package lab

import (
	"net/netip"

	"github.com/rootline-dns/rootline/internal/web"
)

// faultGuide says, for each fault, what the faulty server does and what
// to watch for on the web page (or with rootline lookup +explain): the
// lab exists to show what resolvers do when DNS breaks.
var faultGuide = [numFaults]struct{ does, watch string }{
	Lame: {"answers REFUSED: listed in the delegation, but does not serve the zone (a lame delegation)",
		"Resolve a name under com. not asked before (mail.example.com, say): the exchange with a.gtld-servers.test is marked refused and the next com. server is asked; later walks pass it over as failed recently."},
	Slow: {"answers 0.8 s late",
		"The first query to a.root-servers.test takes about 800 ms; the resolver measures each server's round-trip time (SRTT) and afterwards picks the quicker root server."},
	Drop: {"never answers, like a server behind a firewall",
		"A query to b.root-servers.test times out and the next root server is tried; afterwards it is passed over as failed recently."},
	Truncate: {"answers over UDP with an empty, truncated (TC) reply",
		"The exchange with ns1.example.com goes over TCP: its UDP reply was truncated, so the question went again over TCP (RFC 7766)."},
	Down: {"is not running: its ports are closed",
		"example.com has this one server. Resolve brief.example.com (TTL 5 s), switch the fault on, wait 5 s and resolve it again: with --serve-stale the expired answer is served (source cache-stale, EDE 3 Stale Answer); without it, SERVFAIL with EDE 23 Network Error (22 No Reachable Authority when servers time out instead)."},
	Bogus: {"the zone's signatures are corrupted",
		"Resolve www.example.net: SERVFAIL with EDE 6 (DNSSEC Bogus), and the chain of trust shows where it broke."},
	Expired: {"the zone's signatures expired a week ago",
		"Resolve www.secure.example.com: SERVFAIL with EDE 7 (Signature Expired)."},
	DSMismatch: {"the parent's DS names a key the zone does not publish",
		"Resolve the reverse name of 203.0.113.10 (10.113.0.203.in-addr.arpa, type PTR): SERVFAIL with EDE 9 (DNSKEY Missing)."},
}

// webPanel is the lab's side of the web page's fault panel.
type webPanel struct{ l *Lab }

var _ web.Lab = webPanel{}

// LabState implements web.Lab.
func (p webPanel) LabState() web.LabState {
	l := p.l
	st := web.LabState{ServeStale: l.opt.ServeStale}
	for f := Lame; f < numFaults; f++ {
		info := web.FaultInfo{Name: f.String(), Does: faultGuide[f].does, Watch: faultGuide[f].watch, Default: defaultTargets[f]}
		if !f.ZoneFault() {
			st.Faults = append(st.Faults, info)
		}
	}
	for origin, sz := range l.signed {
		if f := sz.info.Fault; f != None {
			st.ZoneFaults = append(st.ZoneFaults, web.FaultInfo{Name: f.String(), Does: faultGuide[f].does, Watch: faultGuide[f].watch, Default: origin})
		}
	}
	for _, s := range l.servers {
		st.Servers = append(st.Servers, web.LabServer{Name: s.spec.Name(), Names: s.spec.Names, Addr: s.spec.Addr.String(),
			Zones: s.spec.Zones, Fault: s.handler.current().String()})
	}
	return st
}

// SetFault implements web.Lab.
func (p webPanel) SetFault(server, fault string) error {
	f, err := ParseFault(fault)
	if err != nil {
		return err
	}
	return p.l.SetFault(server, f)
}

// WebAddr is where the lab's web page listens (invalid when it has none:
// Options.Web unset, in-memory labs, Options.NoResolver).
func (l *Lab) WebAddr() netip.AddrPort {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.res == nil {
		return netip.AddrPort{}
	}
	return l.res.WebAddr()
}
