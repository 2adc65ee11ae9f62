package web

// Lab is the lab's side of the fault panel (package lab fills it in).
// Functions, not an interface: a lab in an interface would keep every
// method of every type it reaches in the binary.
type Lab struct {
	// State describes the servers, their faults and the faults that can
	// be switched.
	State func() LabState
	// SetFault switches server's fault ("none" clears it).
	SetFault func(server, fault string) error
}

// LabState is what GET /api/lab returns.
type LabState struct {
	// ServeStale says the lab's resolver answers from expired cache when
	// servers fail (RFC 8767): the down fault shows it.
	ServeStale bool `json:"serve_stale"`
	// Faults are the faults that can be switched at run time.
	Faults  []FaultInfo `json:"faults"`
	Servers []LabServer `json:"servers"`
	// ZoneFaults are the DNSSEC faults fixed when the lab was built
	// (bogus, Default example.net.).
	ZoneFaults []FaultInfo `json:"zone_faults,omitempty"`
}

// FaultInfo names one fault. What the faulty server does and what to
// watch for is the page's to say (index.html, guide), beside the panel.
type FaultInfo struct {
	Name string `json:"name"`
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
