package lab

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/service"
	"github.com/rootline-dns/rootline/internal/zone"
)

// DefaultListenBase is the address below the servers': server i listens on
// base+i+1 and the resolver on base+53. 127.53.0.0/24 is loopback (RFC 1122
// 3.2.1.3) and unlikely to collide with anything else on 127.0.0.1.
func DefaultListenBase() netip.Addr { return netip.AddrFrom4([4]byte{127, 53, 0, 0}) }

// DefaultSlowDelay is how long a Slow server waits before answering: long
// enough to stand out in dig's "Query time" and in a resolver's round-trip
// estimates, short enough to stay under the common 1-2 s client timeouts so
// the answer still arrives.
const DefaultSlowDelay = 800 * time.Millisecond

// Options configure a lab. The zero value is the embedded hierarchy on
// 127.53.0.0 with a port chosen by the system.
type Options struct {
	// Zones is the hierarchy: a directory of ORIGIN.zone files and
	// root.zone. Nil means the embedded one (Zones()).
	Zones fs.FS
	// ListenBase is the address below the servers' (DefaultListenBase if
	// invalid).
	ListenBase netip.Addr
	// Port is the port every server listens on; 0 lets Start pick one that
	// is free on every address (New uses 53 for the addresses it reports).
	Port uint16
	// Faults apply from the start; SetFault changes them later.
	Faults []FaultSpec
	// SlowDelay is the Slow fault's delay (DefaultSlowDelay if 0).
	SlowDelay time.Duration
	// Logger receives the servers' logs (discarded if nil).
	Logger *slog.Logger

	// NoResolver: the lab has no recursive resolver, neither on a socket
	// after Start nor in memory (ResolverAddr is then invalid).
	NoResolver bool
	// ServeStale lets the resolver answer from expired cache data when
	// every server of a zone fails (RFC 8767).
	ServeStale bool
	// Now is the resolver's clock (time.Now if nil): tests move it forward
	// to expire cached data without waiting. Signatures are made valid
	// around its time at build.
	Now func() time.Time
	// Unsigned serves the zone files as they are, without DNSSEC: the lab
	// as it was before signing (and no DNSSEC faults).
	Unsigned bool
	// Web, when valid, serves the web page (the resolver's, with a fault
	// panel) on this address; WebAllowRemote lets it be off loopback.
	Web            netip.AddrPort
	WebAllowRemote bool
	// Encrypted, if set, has the resolver serve DNS over TLS and over
	// HTTPS too, with a certificate from a CA the lab makes at start
	// (CAFile).
	Encrypted *Encrypted
}

// Lab is a running (or in-memory) hierarchy.
type Lab struct {
	log     *slog.Logger
	h       *hierarchy
	servers []*labServer
	byAddr  map[netip.Addr]*labServer
	network *Network
	port    uint16
	base    netip.Addr
	signed  map[string]*signedZone // origin -> its keys and records; nil when unsigned

	// ctx is set by Start (nil for an in-memory lab): servers started later
	// by SetFault get it too.
	ctx    context.Context
	opt    Options
	mu     sync.Mutex // guards closed, res and each labServer's listening
	closed bool
	res    *service.Resolver

	// The in-memory resolver the Network serves (resolver.go), made on
	// first use.
	memMu     sync.Mutex
	mem       *service.Resolver
	memClosed bool
	tls       *labTLS // the CA and the resolver's certificate; nil without TLS
}

type labServer struct {
	spec      Server
	handler   *faulty       // the fault wrapper, served by svc and by Network
	svc       *service.Auth // its listeners run between Start and Shutdown
	listening bool          // guarded by Lab.mu
}

// New builds the lab's servers without opening any socket: use Network to
// reach them, and the recursive resolver at ResolverAddr, which learns the
// hierarchy by referral through the same Network (like net/http/httptest,
// a whole resolution runs in memory). Servers' addresses are what Start
// would use (port 53 when opt.Port is 0).
func New(opt Options) (*Lab, error) {
	if opt.Zones == nil {
		opt.Zones = Zones()
	}
	if !opt.ListenBase.IsValid() {
		opt.ListenBase = DefaultListenBase()
	}
	if opt.SlowDelay <= 0 {
		opt.SlowDelay = DefaultSlowDelay
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	h, err := loadHierarchy(opt.Zones)
	if err != nil {
		return nil, err
	}
	port := opt.Port
	if port == 0 {
		port = 53
	}
	l := &Lab{log: opt.Logger, h: h, byAddr: make(map[netip.Addr]*labServer), base: opt.ListenBase, port: port, opt: opt}
	zoneFaults := make(map[string]Fault)
	for _, fs := range opt.Faults {
		if !fs.Fault.ZoneFault() {
			continue
		}
		origin := dnsname.Canonical(fs.Server)
		if opt.Unsigned {
			return nil, fmt.Errorf("lab: fault %s needs a signed lab", fs.Fault)
		}
		if _, ok := h.files[origin]; !ok {
			return nil, fmt.Errorf("lab: fault %s: no zone %q in the lab (want one of %s)", fs.Fault, fs.Server, strings.Join(h.origins, " "))
		}
		zoneFaults[origin] = fs.Fault
	}
	if err := l.build(zoneFaults); err != nil {
		return nil, err
	}
	l.network = &Network{lab: l}
	for _, fs := range opt.Faults {
		if fs.Fault.ZoneFault() {
			continue
		}
		if err := l.setFault(fs.Server, fs.Fault); err != nil {
			return nil, err
		}
	}
	for _, s := range l.servers {
		s.handler.delay = opt.SlowDelay
	}
	return l, nil
}

// build assigns addresses at l.port, signs the zones (unless unsigned)
// and makes each server: an Auth service (the same one `rootline auth`
// runs) serving its zones from memory behind the fault wrapper.
func (l *Lab) build(zoneFaults map[string]Fault) error {
	if err := l.h.assign(l.base, l.port); err != nil {
		return err
	}
	records := l.h.served
	if !l.opt.Unsigned {
		now := time.Now()
		if l.opt.Now != nil {
			now = l.opt.Now()
		}
		signed, err := signAll(l.h, l.opt.Zones, l.h.served, zoneFaults, now)
		if err != nil {
			return err
		}
		l.signed = signed
		records = func(origin string) []dns.RR { return signed[origin].records }
	}
	zones := make(map[string]*zone.Zone, len(l.h.origins))
	for _, origin := range l.h.origins {
		z, err := zone.New(origin, records(origin))
		if err != nil {
			return fmt.Errorf("lab: %s: %w", l.h.file(origin), err)
		}
		zones[origin] = z
	}
	for _, spec := range l.h.servers {
		zs := make([]*zone.Zone, 0, len(spec.Zones))
		for _, origin := range spec.Zones {
			zs = append(zs, zones[origin])
		}
		s := &labServer{spec: spec}
		svc, err := service.NewAuth(&config.Auth{Listen: []netip.AddrPort{spec.Addr}}, service.AuthOptions{
			Logger: l.log.With("server", spec.Name()),
			Zones:  zs,
			Wrap: func(next server.Handler) server.Handler {
				s.handler = &faulty{next: next}
				return s.handler
			},
			Server: listenerTuning,
		})
		if err != nil {
			return fmt.Errorf("lab: %s: %w", spec.Name(), err)
		}
		s.svc = svc
		l.servers = append(l.servers, s)
		l.byAddr[spec.Addr.Addr()] = s
	}
	return nil
}

// Servers describes the lab's name servers, root servers first.
func (l *Lab) Servers() []Server {
	out := make([]Server, len(l.servers))
	for i, s := range l.servers {
		out[i] = s.spec
	}
	return out
}

// Port is the port every lab server listens on.
func (l *Lab) Port() uint16 { return l.port }

// RootHints are the root servers' names and where they listen: what a
// resolver primes from (RFC 8109), as NS and A records.
func (l *Lab) RootHints() []dns.RR {
	var ns, addrs []dns.RR
	for _, s := range l.servers {
		if len(s.spec.Zones) == 0 || s.spec.Zones[0] != "." {
			continue
		}
		for _, name := range s.spec.Names {
			ns = append(ns, &dns.NS{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeNS, Class: dns.ClassINET, Ttl: 3600000}, Ns: name})
			addrs = append(addrs, &dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 3600000}, A: s.spec.Addr.Addr().AsSlice()})
		}
	}
	return append(ns, addrs...)
}

// RootAddrs are the root servers' addresses and port.
func (l *Lab) RootAddrs() []netip.AddrPort {
	var out []netip.AddrPort
	for _, s := range l.servers {
		if len(s.spec.Zones) > 0 && s.spec.Zones[0] == "." {
			out = append(out, s.spec.Addr)
		}
	}
	return out
}

// Network returns the in-memory network that reaches the lab's servers.
func (l *Lab) Network() *Network { return l.network }

// Server returns the server known by name (any of its names, with or
// without the final dot) or by address.
func (l *Lab) Server(nameOrAddr string) (Server, bool) {
	s := l.find(nameOrAddr)
	if s == nil {
		return Server{}, false
	}
	return s.spec, true
}

func (l *Lab) find(nameOrAddr string) *labServer {
	if a, err := netip.ParseAddr(nameOrAddr); err == nil {
		if s := l.byAddr[a]; s != nil {
			return s
		}
		for _, s := range l.servers {
			if s.spec.Authored == a {
				return s
			}
		}
		return nil
	}
	name := dnsname.Canonical(nameOrAddr)
	for _, s := range l.servers {
		if contains(s.spec.Names, name) {
			return s
		}
	}
	return nil
}

func (l *Lab) serverAt(a netip.Addr) *labServer { return l.byAddr[a] }

// Queries reports how many queries a server has received over UDP and
// over TCP (whatever its fault did with them).
func (l *Lab) Queries(nameOrAddr string) (udp, tcp uint64) {
	if s := l.find(nameOrAddr); s != nil {
		return s.handler.udp.Load(), s.handler.tcp.Load()
	}
	return 0, 0
}

// Fault returns the server's current fault.
func (l *Lab) Fault(nameOrAddr string) Fault {
	if s := l.find(nameOrAddr); s != nil {
		return s.handler.current()
	}
	return None
}

func (l *Lab) setFault(nameOrAddr string, f Fault) error {
	if f >= numFaults {
		return fmt.Errorf("lab: %v: no such fault", f)
	}
	if f.ZoneFault() {
		return fmt.Errorf("lab: fault %s breaks a zone's signatures when the lab is built: give it in Options.Faults", f)
	}
	s := l.find(nameOrAddr)
	if s == nil {
		return fmt.Errorf("lab: no server %q (want one of %s)", nameOrAddr, strings.Join(l.serverNames(), ", "))
	}
	s.handler.fault.Store(uint32(f))
	return nil
}

func (l *Lab) serverNames() []string {
	var out []string
	for _, s := range l.servers {
		out = append(out, s.spec.Names...)
	}
	return out
}

// WriteMap prints which server holds which zones at which address.
func (l *Lab) WriteMap(w io.Writer) error {
	width := 0
	for _, s := range l.servers {
		width = max(width, len(strings.Join(s.spec.Names, ", ")))
	}
	for _, s := range l.servers {
		fault := ""
		if f := s.handler.current(); f != None {
			fault = "  [fault: " + f.String() + "]"
		}
		for _, origin := range s.spec.Zones {
			if sz := l.signed[origin]; sz != nil && sz.info.Fault != None {
				fault += "  [fault: " + sz.info.Fault.String() + " " + origin + "]"
			}
		}
		if _, err := fmt.Fprintf(w, "  %-*s  %-21s  %s%s\n", width, strings.Join(s.spec.Names, ", "),
			s.spec.Addr, strings.Join(s.spec.Zones, " "), fault); err != nil {
			return err
		}
	}
	return nil
}

// ensure labServer's handler is a server.Handler.
var _ server.Handler = (*faulty)(nil)
