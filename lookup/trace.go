package lookup

import (
	"context"
	"errors"
	"fmt"
	"net/netip"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/resolver"
)

// Limits on one trace. Every loop over what servers send is bounded by
// one of them; running out ends the trace with an error.
const (
	// MaxTraceSteps bounds the questions one trace asks, sub-traces
	// included. A name rarely sits more than 5-6 delegations deep; 32
	// leaves room for a glueless delegation or two and still stops a
	// misbehaving hierarchy quickly.
	MaxTraceSteps = 32
	// MaxTraceReferrals bounds the referrals one walk follows. Each must
	// lead strictly down the tree, so they cannot loop, but a hostile
	// server can delegate one label at a time down a 127-label name; real
	// names sit 3-6 zone cuts below the root.
	MaxTraceReferrals = 16
	// MaxTraceGlueDepth bounds nested sub-traces for glueless delegations
	// (a name server whose own zone is glueless, and so on). Resolvers
	// allow a few (Unbound's target-fetch-policy has 5 levels, our
	// resolver MaxDepth 7); 4 covers real trees.
	MaxTraceGlueDepth = 4
	// MaxTraceServers bounds the addresses tried for one question: the
	// root has 26 (13 names, IPv4 and IPv6); more only feeds an attack.
	MaxTraceServers = 32
	// MaxTraceCNAMERestarts bounds restarts at a CNAME target
	// (TraceOptions.FollowCNAME): the resolver's budget, Unbound's 11.
	MaxTraceCNAMERestarts = resolver.MaxCNAMERestarts
)

// TraceOptions configure Trace. The zero value starts at the built-in
// root hints, asks on port 53 and stops at a CNAME, as dig +trace does.
type TraceOptions struct {
	// Roots are the servers the trace starts from; nil means
	// IANARootHints.
	Roots *RootHints
	// Port, when non-zero, is the port of every server asked, the roots
	// included (dig +trace -p). Otherwise referral glue is asked on port
	// 53 and the roots on their own port.
	Port uint16
	// FollowCNAME restarts the trace from the root at the target of a
	// CNAME chain that leaves the answering server's zone, as a resolver
	// does. Off, such a reply ends the trace.
	FollowCNAME bool
	// Query builds the message sent for a question (flags, EDNS, DO);
	// nil means the bare question, with EDNS left to the Exchanger. RD is
	// always cleared: a trace asks iteratively (RFC 1034 5.3.3).
	Query func(q dns.Question) *dns.Msg
	// DNSSEC adds the links of the chain of trust to the trace: each
	// referral step carries the child's DS records, and after it (and at
	// the start, for the root) an ActionKeys step asks the zone's servers
	// for its DNSKEY set. Query should set DO (RFC 3225) so that the
	// replies carry DS records and signatures.
	DNSSEC bool
}

// Trace resolves q iteratively as a resolver does, from the root down
// through each referral, and calls fn with every Step on the way (fn may
// be nil). Replies are judged by the resolver's own scrub and classify.
// A referral without usable glue is followed after sub-traces, from the
// root, find a name server's address. Each server is asked once; one that
// does not reply or replies uselessly is followed by the next of its zone.
//
// Trace returns the reply that ended it: an answer, NXDOMAIN, NODATA (or
// a CNAME leaving the zone, unless FollowCNAME). Like the resolver it
// ignores the Client's name servers, search list and cache; it uses its
// Exchanger and timeout. The error says why no such reply came (every
// server of a zone failed, a limit ran out, ctx ended).
func (c *Client) Trace(ctx context.Context, q dns.Question, opts TraceOptions, fn func(Step)) (*dns.Msg, error) {
	if err := checkName(q.Name); err != nil {
		return nil, err
	}
	q.Name = dnsname.Fqdn(q.Name)
	if q.Qclass == 0 {
		q.Qclass = dns.ClassINET
	}
	hints := opts.Roots
	if hints == nil {
		hints = IANARootHints()
	}
	if fn == nil {
		fn = func(Step) {}
	}
	t := &tracer{c: c, opts: opts, fn: fn}
	for _, s := range hints.Servers {
		if opts.Port != 0 {
			s.Addr = netip.AddrPortFrom(s.Addr.Addr(), opts.Port)
		}
		t.roots = append(t.roots, s)
	}
	if len(t.roots) == 0 {
		return nil, errors.New("lookup: trace: no root server with an address")
	}
	if opts.DNSSEC {
		t.keys(ctx, ".", t.roots, nil, 0)
	}
	return t.walk(ctx, q, t.roots, ".", 0)
}

// tracer is one trace's state.
type tracer struct {
	c     *Client
	opts  TraceOptions
	fn    func(Step)
	roots []NameServer
	steps int // questions asked so far, sub-traces included
}

// walk asks servers (of zone) about q and follows what they say down the
// tree until a reply ends it. Each turn of the outer loop is one step (one
// question), charged to MaxTraceSteps; the inner loop tries the zone's
// servers in order, at most MaxTraceServers.
func (t *tracer) walk(ctx context.Context, q dns.Question, servers []NameServer, zone string, depth int) (*dns.Msg, error) {
	referrals, restarts := 0, 0
steps:
	for t.steps < MaxTraceSteps {
		t.steps++
		req := t.query(q)
		for _, s := range servers[:min(len(servers), MaxTraceServers)] {
			st := Step{Seq: t.steps, Depth: depth, Zone: zone, Question: q, ServerName: s.Name}
			r, info, err := t.c.exchangeOne(ctx, s.Addr, req)
			st.Info = info
			st.Server = s.Addr
			if err != nil {
				st.Kind, st.Error, st.Action = KindNoReply, err.Error(), ActionNextServer
				t.emit(st)
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				continue
			}
			v := resolver.ClassifyReply(r, zone, q.Name, q.Qtype)
			st.Kind, st.Rcode, st.AA, st.Scrubbed, st.Reply = kindOf[v.Kind], r.Rcode, r.Authoritative, v.Scrubbed, r
			st.Answer, st.Authority, st.Additional = records(r.Answer), records(r.Ns), records(r.Extra)
			switch st.Kind {
			case KindAnswer, KindNXDomain, KindNoData, KindYXDomain:
				st.Action = ActionDone
				t.emit(st)
				return r, nil
			case KindCNAME:
				if !t.opts.FollowCNAME {
					st.Action = ActionDone
					t.emit(st)
					return r, nil
				}
				st.Action, st.Target = ActionCNAME, v.Final
				t.emit(st)
				if restarts++; restarts > MaxTraceCNAMERestarts {
					return nil, fmt.Errorf("more than %d CNAME restarts", MaxTraceCNAMERestarts)
				}
				q.Name, servers, zone, referrals = v.Final, t.roots, ".", 0
				continue steps
			case KindReferral:
				st.Referral, st.NS, st.Servers = v.Child, v.NS, t.glue(v)
				st.Action = ActionReferral
				if t.opts.DNSSEC {
					st.DS = dsOf(r.Ns, v.Child)
				}
				if len(st.Servers) == 0 {
					st.Action = ActionGlueless
				}
				t.emit(st)
				if referrals++; referrals > MaxTraceReferrals {
					return nil, fmt.Errorf("more than %d referrals", MaxTraceReferrals)
				}
				servers, zone = st.Servers, v.Child
				if len(servers) == 0 {
					if servers, err = t.glueless(ctx, v.Child, v.NS, depth); err != nil {
						return nil, err
					}
				}
				if t.opts.DNSSEC && depth == 0 {
					t.keys(ctx, zone, servers, st.DS, depth)
				}
				continue steps
			default: // lame, SERVFAIL, REFUSED, FORMERR: ask another server
				st.Action = ActionNextServer
				t.emit(st)
			}
		}
		return nil, fmt.Errorf("no server for zone %s gave a usable reply", zone)
	}
	return nil, fmt.Errorf("more than %d steps", MaxTraceSteps)
}

// query is the message for q: the caller's, or the bare question; always
// without RD.
func (t *tracer) query(q dns.Question) *dns.Msg {
	var m *dns.Msg
	if t.opts.Query != nil {
		m = t.opts.Query(q)
	}
	if m == nil {
		m = new(dns.Msg)
		m.SetQuestion(q.Name, q.Qtype)
		m.Question[0].Qclass = q.Qclass
	}
	m.RecursionDesired = false
	return m
}

// port is the port servers learnt from referrals are asked on.
func (t *tracer) port() uint16 {
	if t.opts.Port != 0 {
		return t.opts.Port
	}
	return 53
}

// glue lists a referral's servers that came with addresses, by NS name
// in the referral's order.
func (t *tracer) glue(v resolver.Verdict) []NameServer {
	var out []NameServer
	for _, n := range v.NS {
		for _, rr := range v.Glue {
			if a, ok := resolver.RecordAddr(rr); ok && dnsname.Equal(rr.Header().Name, n) {
				out = append(out, NameServer{Name: n, Addr: netip.AddrPortFrom(a, t.port())})
			}
		}
	}
	return out
}

// glueless finds addresses for the name servers of child, a delegation
// that came without glue: for each name in turn, a sub-trace from the
// root for its A records, and for its AAAA records only when it has no A,
// until one name has an address (one address is enough to go on, so the
// AAAA question would only cost a walk). The names are at most resolver.MaxNSPerDelegation, and the
// sub-traces' steps count against MaxTraceSteps.
func (t *tracer) glueless(ctx context.Context, child string, names []string, depth int) ([]NameServer, error) {
	if depth+1 > MaxTraceGlueDepth {
		return nil, fmt.Errorf("glue for %s needs more than %d nested lookups", child, MaxTraceGlueDepth)
	}
	for _, n := range names {
		t.emit(Step{Seq: t.steps, Depth: depth, Action: ActionGlueLookup, Zone: child, Target: n})
		var out []NameServer
		for _, qt := range []uint16{dns.TypeA, dns.TypeAAAA} {
			if len(out) > 0 {
				break
			}
			sub := dns.Question{Name: n, Qtype: qt, Qclass: dns.ClassINET}
			ans, err := t.walk(ctx, sub, t.roots, ".", depth+1)
			if err != nil {
				t.emit(Step{Seq: t.steps, Depth: depth, Action: ActionGlueFailed, Zone: child, Question: sub, Target: n, Error: err.Error()})
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				continue
			}
			for _, rr := range ans.Answer {
				if a, ok := resolver.RecordAddr(rr); ok && rr.Header().Rrtype == qt {
					out = append(out, NameServer{Name: n, Addr: netip.AddrPortFrom(a, t.port())})
				}
			}
		}
		if len(out) > 0 {
			t.emit(Step{Seq: t.steps, Depth: depth, Action: ActionGlueFound, Zone: child, Target: n, Servers: out})
			return out, nil // one reachable name is enough to go on
		}
	}
	return nil, fmt.Errorf("no address found for any name server of %s", child)
}
