package web

// Lab is the lab's side of the fault panel (package lab implements it).
type Lab interface {
	// LabState describes the servers, their faults and the faults that
	// can be switched.
	LabState() LabState
	// SetFault switches server's fault ("none" clears it).
	SetFault(server, fault string) error
}

// LabState is what GET /api/lab returns.
type LabState struct {
	// ServeStale says the lab's resolver answers from expired cache when
	// servers fail (RFC 8767): the down fault shows it.
	ServeStale bool `json:"serve_stale"`
	// Faults are the faults that can be switched at run time, each with
	// what it does and what to watch for.
	Faults  []FaultInfo `json:"faults"`
	Servers []LabServer `json:"servers"`
	// ZoneFaults are the DNSSEC faults fixed when the lab was built
	// ("bogus in example.net."), with what to watch for.
	ZoneFaults []FaultInfo `json:"zone_faults,omitempty"`
}

// FaultInfo describes one fault.
type FaultInfo struct {
	Name string `json:"name"`
	// Does says what the faulty server does; Watch what to look for, and
	// with which name.
	Does  string `json:"does"`
	Watch string `json:"watch"`
	// Default is the server (or zone) the fault shows best on.
	Default string `json:"default,omitempty"`
}

// LabServer is one lab name server.
type LabServer struct {
	Name  string   `json:"name"`
	Names []string `json:"names"`
	Addr  string   `json:"addr"`
	Zones []string `json:"zones"`
	Fault string   `json:"fault"`
}
