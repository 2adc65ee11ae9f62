package lookup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/transport"
	"github.com/rootline-dns/rootline/internal/validate"
)

// Default file locations, read by New unless Options say otherwise.
const (
	DefaultResolvConf = "/etc/resolv.conf"
	DefaultHostsFile  = "/etc/hosts"
)

// Exchanger performs one DNS transaction with one server. The default is
// Rootline's UDP/TCP client: EDNS0 with a 1232-byte buffer, TC -> TCP,
// crypto-random IDs, mismatched replies ignored. Tests and embedders may
// supply their own (an in-memory network, DoT, ...).
type Exchanger interface {
	Exchange(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, error)
}

// Options configure a Client. The zero value reads /etc/resolv.conf and
// /etc/hosts, and uses no cache.
type Options struct {
	// Config replaces resolv.conf entirely when non-nil.
	Config *Config
	// ResolvConf is the resolv.conf path ("" means DefaultResolvConf). A
	// missing file means DefaultConfig, as in glibc.
	ResolvConf string
	// Servers, when set, replace the configuration's name servers.
	Servers []netip.AddrPort
	// Hosts replaces the hosts file when non-nil.
	Hosts *Hosts
	// HostsFile is the hosts path ("" means DefaultHostsFile); a missing
	// file means no entries.
	HostsFile string
	// NoHosts skips the hosts file: every lookup goes to DNS.
	NoHosts bool
	// Exchanger sends the queries; nil means Rootline's transport client.
	Exchanger Exchanger
	// NoEDNS makes the default Exchanger send requests that carry no OPT
	// record as they are, instead of adding one (dig's +noedns). It has
	// no effect on a caller's Exchanger.
	NoEDNS bool
	// CacheSize is the number of answers kept in an in-process cache that
	// honours TTLs (RFC 1035 3.2.1, RFC 2308 5 for negative answers); 0,
	// the default, disables it.
	CacheSize int
	// Now is the clock for the cache; nil means time.Now.
	Now func() time.Time
	// Logger gets debug records of each query; nil discards.
	Logger *slog.Logger
	// TrustAnchors are the DS or DNSKEY records Validate and
	// LookupValidated start from (ParseTrustAnchors reads them); nil
	// means the IANA root trust anchor.
	TrustAnchors []dns.RR
	// NegativeTrustAnchors are zones whose data is treated as insecure
	// whatever its signatures say (RFC 7646).
	NegativeTrustAnchors []string
	// TrustAD makes Validate accept the AD bit of the servers' replies
	// as authentication, for servers that validate and are reached over
	// a path the caller trusts (RFC 4035 4.9.3, RFC 6840 5.7).
	TrustAD bool
}

// Client looks names up like the C library's stub resolver. It is safe for
// concurrent use.
type Client struct {
	conf  *Config
	hosts *Hosts
	ex    Exchanger
	tc    infoExchanger // the Exchanger, when it reports Info (Rootline's transports do)
	cache *cache        // nil when off
	log   *slog.Logger
	// validator judges replies for Validate; its key cache is shared by
	// the Client's lookups.
	validator *validate.Validator
	trustAD   bool
	next      atomic.Uint32 // rotation start (resolv.conf "options rotate")
}

// New builds a Client, reading resolv.conf and the hosts file now (not per
// lookup).
func New(o Options) (*Client, error) {
	c := &Client{conf: o.Config, hosts: o.Hosts, ex: o.Exchanger, log: o.Logger, trustAD: o.TrustAD}
	c.tc, _ = o.Exchanger.(infoExchanger)
	v, err := newValidator(c, o)
	if err != nil {
		return nil, err
	}
	c.validator = v
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.conf == nil {
		path := o.ResolvConf
		if path == "" {
			path = DefaultResolvConf
		}
		conf, err := readResolvConf(path)
		if err != nil {
			return nil, err
		}
		c.conf = conf
	} else {
		cp := *c.conf
		c.conf = &cp
	}
	if len(o.Servers) > 0 {
		c.conf.Servers = o.Servers
	}
	if c.conf.Attempts < 1 {
		c.conf.Attempts = 1
	}
	if c.conf.Timeout <= 0 {
		c.conf.Timeout = DefaultConfig().Timeout
	}
	if c.hosts == nil && !o.NoHosts {
		path := o.HostsFile
		if path == "" {
			path = DefaultHostsFile
		}
		h, err := readHosts(path)
		if err != nil {
			return nil, err
		}
		c.hosts = h
	}
	if o.NoHosts {
		c.hosts = nil
	}
	if c.ex == nil {
		tc := transport.NewClient(transport.ClientOptions{Timeout: c.conf.Timeout, TCP: c.conf.UseTCP, NoEDNS: o.NoEDNS, Logger: c.log})
		c.ex, c.tc = tc, tc
	}
	if o.CacheSize > 0 {
		now := o.Now
		if now == nil {
			now = time.Now
		}
		c.cache = newCache(o.CacheSize, now)
	}
	return c, nil
}

func readResolvConf(path string) (*Config, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return DefaultConfig(), nil
	}
	if err != nil {
		return nil, fmt.Errorf("lookup: %w", err)
	}
	defer f.Close()
	c, err := ParseResolvConf(f)
	if err != nil {
		return nil, fmt.Errorf("lookup: %s: %w", path, err)
	}
	return c, nil
}

func readHosts(path string) (*Hosts, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Hosts{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lookup: %w", err)
	}
	defer f.Close()
	h, err := ParseHosts(f)
	if err != nil {
		return nil, fmt.Errorf("lookup: %s: %w", path, err)
	}
	return h, nil
}

// Config returns a copy of the configuration in use.
func (c *Client) Config() Config { return *c.conf }

// lookupErr classifies a transport failure.
func lookupErr(name string, server netip.AddrPort, err error) *Error {
	e := &Error{Err: err, Name: name, Server: server, Rcode: -1, IsTemporary: true}
	var te interface{ Timeout() bool }
	if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &te) && te.Timeout()) {
		e.IsTimeout = true
	}
	return e
}

// query asks for (name, qtype) with RD set, as a stub resolver does. It
// returns the reply when its RCODE is NOERROR or NXDOMAIN; other RCODEs from
// every server become an Error.
func (c *Client) query(ctx context.Context, name string, qtype uint16) (*dns.Msg, netip.AddrPort, error) {
	if c.cache != nil {
		if r := c.cache.get(name, qtype); r != nil {
			return r, netip.AddrPort{}, nil
		}
	}
	req := new(dns.Msg)
	req.SetQuestion(name, qtype)
	req.RecursionDesired = true
	// RFC 2308 / RFC 8020: NXDOMAIN and NOERROR are answers; SERVFAIL,
	// REFUSED, NOTIMP and FORMERR mean "ask someone else".
	good := func(r *dns.Msg) bool {
		return r.Rcode == dns.RcodeSuccess || r.Rcode == dns.RcodeNameError
	}
	r, info, err := c.exchange(ctx, name, req, good)
	server := info.Server
	if err != nil {
		return nil, server, err
	}
	if !good(r) {
		return nil, server, &Error{
			Err:  fmt.Errorf("%w: %s", ErrServerFailure, dns.RcodeToString[r.Rcode]),
			Name: name, Server: server, Rcode: r.Rcode, IsTemporary: r.Rcode == dns.RcodeServerFailure,
		}
	}
	if c.cache != nil {
		c.cache.put(name, qtype, r)
	}
	return r, server, nil
}

// resolve runs the search list (resolv.conf "search"/"ndots") for name and
// returns the first candidate whose reply has records of qtype, with the
// records and the canonical name they belong to. NXDOMAIN and NODATA move
// on to the next candidate; any other failure stops the search (glibc
// res_search does the same for server failures).
func (c *Client) resolve(ctx context.Context, name string, qtype uint16) ([]dns.RR, string, error) {
	if err := checkName(name); err != nil {
		return nil, "", err
	}
	var notFound *Error
	for _, cand := range c.conf.candidates(name) {
		r, server, err := c.query(ctx, cand, qtype)
		if err != nil {
			return nil, "", err
		}
		rrs, cname := extract(r, cand, qtype)
		if len(rrs) > 0 {
			return rrs, cname, nil
		}
		reason := ErrNoData
		if r.Rcode == dns.RcodeNameError {
			reason = ErrNotFound
		}
		if notFound == nil || reason == ErrNoData {
			// Report NODATA over NXDOMAIN: the name exists somewhere.
			notFound = &Error{Err: reason, Name: name, Server: server, Rcode: r.Rcode, IsNotFound: true}
		}
	}
	return nil, "", notFound
}

// maxCNAMEChain bounds the CNAME chain followed inside one reply. Resolvers
// stop at 8-16 links (BIND 16, Unbound 11 restarts); a longer chain is a
// loop or an attack.
const maxCNAMEChain = 16

// extract follows the CNAME chain from qname inside the answer section and
// returns the records of qtype at its end and the final owner name.
func extract(r *dns.Msg, qname string, qtype uint16) ([]dns.RR, string) {
	owner := qname
	for range maxCNAMEChain {
		var out []dns.RR
		var next string
		for _, rr := range r.Answer {
			h := rr.Header()
			if h.Class != dns.ClassINET || !dnsname.Equal(h.Name, owner) {
				continue
			}
			if h.Rrtype == qtype {
				out = append(out, rr)
			} else if cn, ok := rr.(*dns.CNAME); ok && qtype != dns.TypeCNAME {
				next = cn.Target
			}
		}
		if len(out) > 0 || next == "" {
			return out, owner
		}
		owner = next
	}
	return nil, owner
}

// checkName rejects names that cannot be asked about; like net.DNSError
// for a bad name, the result is "not found".
func checkName(name string) error {
	if name == "" {
		return &Error{Err: errors.New("empty name"), Name: name, Rcode: -1, IsNotFound: true}
	}
	if err := dnsname.Validate(name); err != nil {
		return &Error{Err: err, Name: name, Rcode: -1, IsNotFound: true}
	}
	return nil
}
