package lookup

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// scripted is an Exchanger whose replies a function makes up.
type scripted func(server netip.AddrPort, q dns.Question) *dns.Msg

func (f scripted) Exchange(_ context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	r := f(server, req.Question[0])
	r.SetReply(req)
	return r, nil
}

func rrs(t *testing.T, lines ...string) []dns.RR {
	t.Helper()
	var out []dns.RR
	for _, l := range lines {
		rr, err := dns.NewRR(l)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, rr)
	}
	return out
}

// hierarchy server i (10.0.0.i) is the server of zone number i.
func addr(i int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, 0, byte(i)}), 53)
}

func runTrace(t *testing.T, ex Exchanger, opts TraceOptions, name string) ([]Step, error) {
	t.Helper()
	c, err := New(Options{Config: &Config{}, NoHosts: true, Exchanger: ex})
	if err != nil {
		t.Fatal(err)
	}
	if opts.Roots == nil {
		opts.Roots = &RootHints{Servers: []NameServer{{Name: "root.", Addr: addr(1)}}}
	}
	var steps []Step
	_, err = c.Trace(context.Background(), dns.Question{Name: name, Qtype: dns.TypeA}, opts, func(s Step) { steps = append(steps, s) })
	return steps, err
}

// TestTraceLimits: hierarchies built to never end are cut off by the
// named limits, with an error saying which.
func TestTraceLimits(t *testing.T) {
	t.Run("referrals", func(t *testing.T) {
		// Server i serves the zone of the name's last i-1 labels and
		// delegates one label further down, forever.
		name := strings.Repeat("a.", 40)
		ex := scripted(func(server netip.AddrPort, q dns.Question) *dns.Msg {
			i := int(server.Addr().As4()[3])
			child := dns.Fqdn(strings.Join(dns.SplitDomainName(q.Name)[40-i:], "."))
			r := new(dns.Msg)
			r.Ns = rrs(t, child+" 60 IN NS ns."+child)
			r.Extra = rrs(t, fmt.Sprintf("ns.%s 60 IN A %s", child, addr(i+1).Addr()))
			return r
		})
		steps, err := runTrace(t, ex, TraceOptions{}, name)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("more than %d referrals", MaxTraceReferrals)) {
			t.Errorf("err = %v", err)
		}
		if len(steps) != MaxTraceReferrals+1 {
			t.Errorf("%d steps", len(steps))
		}
	})
	t.Run("glueless cycle", func(t *testing.T) {
		// a. is served by ns.b. and b. by ns.a., neither with glue.
		ex := scripted(func(server netip.AddrPort, q dns.Question) *dns.Msg {
			r := new(dns.Msg)
			if dns.IsSubDomain("a.", q.Name) {
				r.Ns = rrs(t, "a. 60 IN NS ns.b.")
			} else {
				r.Ns = rrs(t, "b. 60 IN NS ns.a.")
			}
			return r
		})
		steps, err := runTrace(t, ex, TraceOptions{}, "www.a.")
		if err == nil {
			t.Fatal("no error")
		}
		asked, deepest, nested := 0, 0, false
		for _, s := range steps {
			if s.IsExchange() {
				asked++
			}
			deepest = max(deepest, s.Depth)
			nested = nested || strings.Contains(s.Error, "nested lookups")
		}
		if asked > MaxTraceSteps || deepest != MaxTraceGlueDepth || !nested {
			t.Errorf("%d questions, depth %d, depth limit reported %v; err %v", asked, deepest, nested, err)
		}
	})
	t.Run("cname loop across zones", func(t *testing.T) {
		// The root delegates x. and y. to 10.0.0.2 and 10.0.0.3, whose
		// names point at each other.
		ex := scripted(func(server netip.AddrPort, q dns.Question) *dns.Msg {
			r := new(dns.Msg)
			switch server {
			case addr(1):
				z, i := "x.", 2
				if dns.IsSubDomain("y.", q.Name) {
					z, i = "y.", 3
				}
				r.Ns = rrs(t, z+" 60 IN NS ns."+z)
				r.Extra = rrs(t, fmt.Sprintf("ns.%s 60 IN A %s", z, addr(i).Addr()))
			case addr(2):
				r.Authoritative, r.Answer = true, rrs(t, "n.x. 60 IN CNAME n.y.")
			default:
				r.Authoritative, r.Answer = true, rrs(t, "n.y. 60 IN CNAME n.x.")
			}
			return r
		})
		steps, err := runTrace(t, ex, TraceOptions{FollowCNAME: true}, "n.x.")
		if err == nil || !strings.Contains(err.Error(), "CNAME restarts") {
			t.Errorf("err = %v", err)
		}
		cnames := 0
		for _, s := range steps {
			if s.Action == ActionCNAME {
				cnames++
			}
		}
		if cnames != MaxTraceCNAMERestarts+1 {
			t.Errorf("%d CNAME steps", cnames)
		}
		// Without FollowCNAME the first CNAME ends the trace.
		steps, err = runTrace(t, ex, TraceOptions{}, "n.x.")
		if err != nil || len(steps) != 2 || steps[1].Kind != KindCNAME || steps[1].Action != ActionDone {
			t.Errorf("not following: %v, %d steps", err, len(steps))
		}
	})
	t.Run("lame upward referral", func(t *testing.T) {
		// The only server of x. refers back to the root: lame, and no
		// other server to ask.
		ex := scripted(func(server netip.AddrPort, q dns.Question) *dns.Msg {
			r := new(dns.Msg)
			if server == addr(1) {
				r.Ns = rrs(t, "x. 60 IN NS ns.x.")
				r.Extra = rrs(t, "ns.x. 60 IN A "+addr(2).Addr().String())
				return r
			}
			r.Ns = rrs(t, ". 60 IN NS root.")
			return r
		})
		steps, err := runTrace(t, ex, TraceOptions{}, "n.x.")
		if err == nil || len(steps) != 2 || steps[1].Kind != KindLame || steps[1].Action != ActionNextServer {
			t.Errorf("err %v, steps %+v", err, steps)
		}
	})
}

// TestTraceQuery: the caller's message is sent, always without RD, on
// the port asked for; a bad name is refused before anything is sent.
func TestTraceQuery(t *testing.T) {
	var sent []*dns.Msg
	var servers []netip.AddrPort
	ex := scripted(func(server netip.AddrPort, q dns.Question) *dns.Msg {
		servers = append(servers, server)
		r := new(dns.Msg)
		r.Authoritative = true
		r.Answer = rrs(t, q.Name+" 60 IN A 192.0.2.1")
		return r
	})
	rec := exchangerFunc(func(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
		sent = append(sent, req)
		return ex.Exchange(ctx, server, req)
	})
	opts := TraceOptions{Port: 5353, Query: func(q dns.Question) *dns.Msg {
		m := new(dns.Msg)
		m.SetQuestion(q.Name, q.Qtype)
		m.RecursionDesired, m.CheckingDisabled = true, true
		m.SetEdns0(4096, true)
		return m
	}}
	if _, err := runTrace(t, rec, opts, "www.test"); err != nil {
		t.Fatal(err)
	}
	if len(sent) != 1 || sent[0].RecursionDesired || !sent[0].CheckingDisabled || !sent[0].IsEdns0().Do() ||
		sent[0].Question[0].Name != "www.test." || servers[0] != netip.AddrPortFrom(addr(1).Addr(), 5353) {
		t.Errorf("sent %v to %v", sent, servers)
	}
	if _, err := runTrace(t, rec, opts, "bad..name"); !IsNotFound(err) {
		t.Errorf("bad name: %v", err)
	}
}

// exchangerFunc adapts a function to Exchanger (tests only).
type exchangerFunc func(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, error)

func (f exchangerFunc) Exchange(ctx context.Context, server netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	return f(ctx, server, req)
}
