package lab

import (
	"net/netip"

	"github.com/rootline-dns/rootline/internal/web"
)

// webPanel is the lab's side of the web page's fault panel.
func (l *Lab) webPanel() *web.Lab {
	return &web.Lab{State: l.webState, SetFault: l.webSetFault}
}

// webState describes the servers and faults for the panel.
func (l *Lab) webState() web.LabState {
	st := web.LabState{ServeStale: l.opt.ServeStale}
	for f := Lame; f < numFaults; f++ {
		if !f.ZoneFault() {
			st.Faults = append(st.Faults, web.FaultInfo{Name: f.String(), Default: defaultTargets[f]})
		}
	}
	for origin, sz := range l.signed {
		if f := sz.info.Fault; f != None {
			st.ZoneFaults = append(st.ZoneFaults, web.FaultInfo{Name: f.String(), Default: origin})
		}
	}
	for _, s := range l.servers {
		st.Servers = append(st.Servers, web.LabServer{Name: s.spec.Name(), Names: s.spec.Names, Addr: s.spec.Addr.String(),
			Zones: s.spec.Zones, Fault: s.handler.current().String()})
	}
	return st
}

// webSetFault switches a fault from the panel.
func (l *Lab) webSetFault(server, fault string) error {
	f, err := ParseFault(fault)
	if err != nil {
		return err
	}
	return l.SetFault(server, f)
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
