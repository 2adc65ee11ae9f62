package replay

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/resolver"
	"github.com/rootline-dns/rootline/internal/server"
)

// stepTimeout bounds one QUERY step: scripted servers answer at once, so
// only a resolver bug (or a scenario we misread) takes long.
const stepTimeout = 20 * time.Second

// supportedOptions are the Unbound options whose meaning the replay maps
// onto Rootline (or which do not change the expected answers). Any other
// option makes the scenario skip.
var supportedOptions = map[string]bool{
	"server:qname-minimisation":        true,
	"server:qname-minimisation-strict": false,
	"server:target-fetch-policy":       true, // we never prefetch NS addresses
	"server:module-config":             true, // checked: iterator only
	"server:minimal-responses":         true, // answers are compared, not extra sections
	"server:harden-glue":               true, // we always scrub glue
	"server:do-ip6":                    true,
	"server:access-control":            true,
	"server:verbosity":                 true,
	"server:log-queries":               true,
	"server:rrset-roundrobin":          true,
	"server:do-not-query-localhost":    true,
	"server:harden-referral-path":      true,
	"server:iter-scrub-promiscuous":    true,
	"stub-zone:name":                   true,
	"stub-zone:stub-addr":              true,
	"stub-zone:stub-prime":             true,
	"forward-zone:name":                true,
	"forward-zone:forward-addr":        true,
	"server:cache-max-ttl":             true, // cache.Config.MaxTTL
	"server:cache-min-ttl":             true, // cache.Config.MinTTL
	"server:cache-max-negative-ttl":    true, // cache.Config.MaxNegTTL
	// DNSSEC (dnssec.go).
	"server:trust-anchor":           true, // resolver.DNSSEC.Anchors
	"server:val-override-date":      true, // the clock's start
	"server:domain-insecure":        true, // negative trust anchors
	"server:harden-dnssec-stripped": true, // only yes (onlyValue)
	"server:harden-algo-downgrade":  true, // only no
	"server:aggressive-nsec":        true, // resolver.Config.NoAggressiveNSEC
	"server:fake-sha1":              true, // only yes
	// RFC 8145 key tag queries: Rootline sends none, and none of the
	// scenarios expects an answer to depend on them.
	"server:trust-anchor-signaling": true,
	// Logging, and Unbound's EDE switch (the replies' EDE are compared
	// only where a check names its code).
	"server:val-log-level":  true,
	"server:log-servfail":   true,
	"server:log-time-ascii": true,
	"server:ede":            true,
}

// Skip reports why s cannot be replayed faithfully, or "".
func (s *Scenario) Skip() string {
	if len(s.Unsupported) > 0 {
		return "uses " + strings.Join(s.Unsupported, ", ")
	}
	keys := make([]string, 0, len(s.Options))
	for k := range s.Options {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if !supportedOptions[k] && !(k == "server:local-zone" && nodefaultOnly(s.Options[k])) {
			return "option " + k
		}
	}
	if first(s.Options["server:harden-glue"]) == "no" {
		return "harden-glue no: Rootline always scrubs out-of-bailiwick glue"
	}
	if mc := s.Options["server:module-config"]; len(mc) > 0 && mc[0] != "iterator" && mc[0] != "validator iterator" {
		return "module-config " + mc[0]
	}
	if why := s.dnssecSkip(); why != "" {
		return why
	}
	if n := s.Options["stub-zone:name"]; len(n) > 1 || (len(n) == 1 && n[0] != "." && n[0] != "" && !s.islandStub(n[0])) {
		return "stub zone other than the root"
	}
	if n := s.Options["forward-zone:name"]; len(n) > 1 {
		return "several forward zones"
	}
	if len(s.Options["stub-zone:stub-addr"]) == 0 && len(s.Options["forward-zone:forward-addr"]) == 0 {
		return "no stub or forward address (built-in roots)"
	}
	return ""
}

// nodefaultOnly reports whether every local-zone is "ZONE nodefault":
// Unbound answers the special-use names of RFC 6761 (test., invalid.,
// the documentation reverse zones) itself unless told nodefault; Rootline
// has no such local zones, so nodefault is its behaviour already.
func nodefaultOnly(zones []string) bool {
	for _, z := range zones {
		if f := strings.Fields(strings.ReplaceAll(z, "\"", "")); len(f) != 2 || f[1] != "nodefault" {
			return false
		}
	}
	return len(zones) > 0
}

// islandStub reports whether a stub zone other than the root can be
// replayed with its servers as the resolver's root hints: the scenario
// validates from a trust anchor at or below the stub zone (an island of
// trust, so no DS or key above it is ever needed), sends full query names
// (with QNAME minimisation the resolver would ask the stub's servers for
// the ancestors, which the script does not answer), and asks only for
// names in the zone. The stub's servers then answer, as the root's
// servers, exactly the questions Unbound sends them.
func (s *Scenario) islandStub(zone string) bool {
	zone = dns.Fqdn(strings.Trim(zone, "'\""))
	if first(s.Options["server:qname-minimisation"]) != "no" {
		return false
	}
	sec, err := s.dnssecConfig()
	if err != nil || sec == nil {
		return false
	}
	for _, z := range sec.Anchors.Zones() {
		if !dnsname.IsSubdomain(z, zone) {
			return false
		}
	}
	for _, st := range s.Steps {
		if st.Kind == "QUERY" && st.Entry != nil && len(st.Entry.Msg.Question) > 0 &&
			!dnsname.IsSubdomain(st.Entry.Msg.Question[0].Name, zone) {
			return false
		}
	}
	return true
}

// network serves the scenario's ranges to the resolver.
type network struct {
	mu    sync.Mutex
	s     *Scenario
	step  int
	trace func(format string, args ...any) // nil: silent
}

func (n *network) Exchange(ctx context.Context, srv netip.AddrPort, req *dns.Msg) (*dns.Msg, error) {
	n.mu.Lock()
	step := n.step
	n.mu.Unlock()
	q := req.Question[0]
	if m := n.find(step, srv, req, false); m != nil {
		if !m.Truncated {
			n.logf("step %d: %s %s @%s -> %s", step, q.Name, dns.TypeToString[q.Qtype], srv, oneLine(m))
			return m, nil
		}
		// TC: a real transport retries over TCP; the script answers that
		// only with an entry that matches "tcp", else the TCP try fails.
		if m := n.find(step, srv, req, true); m != nil {
			n.logf("step %d: %s %s @%s (tcp) -> %s", step, q.Name, dns.TypeToString[q.Qtype], srv, oneLine(m))
			return m, nil
		}
	}
	n.logf("step %d: %s %s @%s -> no entry", step, q.Name, dns.TypeToString[q.Qtype], srv)
	return nil, fmt.Errorf("replay: no entry for %s %s at %s (step %d): %w", q.Name, dns.TypeToString[q.Qtype], srv, step, context.DeadlineExceeded)
}

// traceWriter turns the resolver's log lines into trace lines.
type traceWriter func(format string, args ...any)

func (w traceWriter) Write(p []byte) (int, error) {
	w("%s", strings.TrimSpace(string(p)))
	return len(p), nil
}

func (n *network) logf(format string, args ...any) {
	if n.trace != nil {
		n.trace(format, args...)
	}
}

// oneLine summarises a reply for a trace.
func oneLine(m *dns.Msg) string {
	var b strings.Builder
	b.WriteString(dns.RcodeToString[m.Rcode])
	if m.Authoritative {
		b.WriteString(" aa")
	}
	for i, sec := range [][]dns.RR{m.Answer, m.Ns, m.Extra} {
		b.WriteString([]string{" AN[", " NS[", " AD["}[i])
		for j, rr := range sec {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strings.Join(strings.Fields(rr.String()), " "))
		}
		b.WriteString("]")
	}
	return b.String()
}

// find returns the first entry's packet matching req at srv in this step.
// The question is the entry's own unless it asks to copy the query's
// (Unbound's ADJUST copy_query): replies without the right question must
// be ignored by the resolver.
func (n *network) find(step int, srv netip.AddrPort, req *dns.Msg, tcp bool) *dns.Msg {
	for _, r := range n.s.Ranges {
		if step < r.From || step > r.To || (len(r.Addrs) > 0 && !slices.Contains(r.Addrs, srv.Addr())) {
			continue
		}
		for _, e := range r.Entries {
			if e.HasRaw || e.Match["tcp"] != tcp || !e.matches(req) {
				continue
			}
			m := e.Msg.Copy()
			m.Id = req.Id
			if e.Adjust["copy_query"] {
				m.Question = []dns.Question{req.Question[0]}
			}
			return m
		}
	}
	return nil
}

func (e *Entry) matches(req *dns.Msg) bool {
	q := req.Question[0]
	var eq dns.Question
	if len(e.Msg.Question) > 0 {
		eq = e.Msg.Question[0]
	}
	if e.Match["opcode"] && req.Opcode != e.Msg.Opcode {
		return false
	}
	if e.Match["qtype"] && q.Qtype != eq.Qtype {
		return false
	}
	if e.Match["qname"] && !dnsname.Equal(q.Name, eq.Name) {
		return false
	}
	if e.Match["subdomain"] && !dnsname.IsSubdomain(q.Name, eq.Name) {
		return false
	}
	if e.Match["noedns"] || e.Match["ednsdata"] {
		return false // EDNS details the in-memory network does not model
	}
	return true
}

// Result is the outcome of one replay.
type Result struct {
	Checks   int
	Failures []string
}

// Run replays s. The clock starts at a fixed instant and moves only with
// TIME_PASSES steps.
func (s *Scenario) Run(ctx context.Context) Result { return s.RunTrace(ctx, nil) }

// RunTrace is Run that reports every upstream exchange to trace (for
// debugging a scenario with go test -v -run TestScenario -scenario NAME).
func (s *Scenario) RunTrace(ctx context.Context, trace func(format string, args ...any)) Result {
	now, _ := s.start() // Skip has checked it
	sec, _ := s.dnssecConfig()
	var clkMu sync.Mutex
	clock := func() time.Time { clkMu.Lock(); defer clkMu.Unlock(); return now }
	net := &network{s: s, trace: trace}
	cfg := resolver.Config{
		Exchanger:             net,
		Now:                   clock,
		Cache:                 cache.New(cache.Config{Now: clock, MinTTL: seconds(s, "server:cache-min-ttl"), MaxTTL: seconds(s, "server:cache-max-ttl"), MaxNegTTL: seconds(s, "server:cache-max-negative-ttl")}),
		AllowLoopbackUpstream: true,
		Quiet:                 true,
		NoQNameMinimisation:   first(s.Options["server:qname-minimisation"]) == "no",
		// Unbound's iter-scrub-promiscuous (default yes) drops the NS
		// sets of answers' authority sections; Rootline's default too.
		ChildNSFromAnswers: first(s.Options["server:iter-scrub-promiscuous"]) == "no",
		DNSSEC:             sec,
		// RFC 8198, on by default in both (Unbound since 1.15).
		NoAggressiveNSEC: first(s.Options["server:aggressive-nsec"]) == "no",
	}
	for _, a := range s.Options["stub-zone:stub-addr"] {
		if ap, err := parseAddr(a); err == nil {
			cfg.RootHints = append(cfg.RootHints, ap)
		}
	}
	if fa := s.Options["forward-zone:forward-addr"]; len(fa) > 0 {
		fz := resolver.ForwardZone{Zone: first(s.Options["forward-zone:name"])}
		for _, a := range fa {
			if ap, err := parseAddr(a); err == nil {
				fz.Servers = append(fz.Servers, ap)
			}
		}
		cfg.Forward = []resolver.ForwardZone{fz}
		if len(cfg.RootHints) == 0 {
			cfg.RootHints = fz.Servers
		}
	}
	if trace != nil {
		cfg.Logger = slog.New(slog.NewTextHandler(traceWriter(trace), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	var res Result
	r, err := resolver.New(cfg)
	if err != nil {
		res.Failures = append(res.Failures, err.Error())
		return res
	}
	h := resolver.NewHandler(r, resolver.HandlerConfig{Logger: cfg.Logger})
	defer h.Close()
	var last *dns.Msg
	for i, st := range s.Steps {
		// Unbound's testbound answers the queries a QUERY step causes
		// while its clock already stands at the next step (it runs
		// pending answers before that step): ranges are matched there.
		at := st.N
		if st.Kind == "QUERY" && i+1 < len(s.Steps) {
			at = s.Steps[i+1].N
		}
		net.mu.Lock()
		net.step = at
		net.mu.Unlock()
		switch st.Kind {
		case "TIME_PASSES":
			clkMu.Lock()
			now = now.Add(time.Duration(st.Elapse * float64(time.Second)))
			clkMu.Unlock()
		case "QUERY":
			if st.Entry == nil || len(st.Entry.Msg.Question) == 0 {
				res.Failures = append(res.Failures, fmt.Sprintf("step %d: query without a question", st.N))
				return res
			}
			q := new(dns.Msg)
			q.SetQuestion(st.Entry.Msg.Question[0].Name, st.Entry.Msg.Question[0].Qtype)
			q.RecursionDesired = st.Entry.Flags["RD"]
			q.CheckingDisabled = st.Entry.Flags["CD"]
			q.AuthenticatedData = st.Entry.Flags["AD"]
			if st.Entry.Flags["DO"] {
				q.SetEdns0(4096, true)
			}
			w, err := q.Pack()
			if err != nil {
				res.Failures = append(res.Failures, fmt.Sprintf("step %d: %v", st.N, err))
				return res
			}
			sctx, cancel := context.WithTimeout(ctx, stepTimeout)
			out := h.ServeDNS(sctx, &server.Request{Wire: w, Remote: netip.MustParseAddrPort("127.0.0.1:5353"), Proto: server.TCP}, make([]byte, 0, 65535))
			cancel()
			last = new(dns.Msg)
			if err := last.Unpack(out); err != nil {
				res.Failures = append(res.Failures, fmt.Sprintf("step %d: reply does not unpack: %v", st.N, err))
				return res
			}
			net.logf("step %d: reply %s ad=%v %v", st.N, oneLine(last), last.AuthenticatedData, last.IsEdns0())
		case "CHECK_ANSWER":
			res.Checks++
			if last == nil || st.Entry == nil {
				res.Failures = append(res.Failures, fmt.Sprintf("step %d: nothing to check", st.N))
				continue
			}
			if d := compare(st.Entry, last); d != "" {
				res.Failures = append(res.Failures, fmt.Sprintf("step %d (line %d): %s", st.N, st.Line, d))
			}
		}
	}
	return res
}

// compare checks what Rootline promises: the rcode, the AD flag (when
// the check matches flags), the Extended DNS Error (when it names one) and
// the answer section as a set of records (TTLs ignored). Authority and
// additional sections are not compared: Unbound's test configuration is
// not minimal-responses, Rootline's replies are.
func compare(want *Entry, got *dns.Msg) string {
	if want.Rcode != got.Rcode {
		return fmt.Sprintf("rcode %s, want %s", dns.RcodeToString[got.Rcode], dns.RcodeToString[want.Rcode])
	}
	if (want.Match["all"] || want.Match["flags"]) && want.Flags["AD"] != got.AuthenticatedData {
		return fmt.Sprintf("AD %v, want %v", got.AuthenticatedData, want.Flags["AD"])
	}
	if d := compareEDE(want, got); d != "" {
		return d
	}
	w, g := rrStrings(want.Msg.Answer), rrStrings(got.Answer)
	if !slices.Equal(w, g) {
		return fmt.Sprintf("answer\n  got  %s\n  want %s", strings.Join(g, " | "), strings.Join(w, " | "))
	}
	return ""
}

func rrStrings(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		c := dns.Copy(rr)
		c.Header().Ttl = 0
		c.Header().Name = strings.ToLower(c.Header().Name)
		out = append(out, strings.ToLower(c.String()))
	}
	slices.Sort(out)
	return out
}

// seconds reads a TTL option in seconds; absent or bad is 0 (the cache's
// default).
func seconds(s *Scenario, key string) time.Duration {
	n, err := strconv.Atoi(first(s.Options[key]))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}

func first(v []string) string {
	if len(v) == 0 {
		return ""
	}
	return v[0]
}

func parseAddr(s string) (netip.AddrPort, error) {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '@'); i >= 0 {
		a, err := netip.ParseAddr(s[:i])
		if err != nil {
			return netip.AddrPort{}, err
		}
		var port uint16
		if _, err := fmt.Sscan(s[i+1:], &port); err != nil {
			return netip.AddrPort{}, err
		}
		return netip.AddrPortFrom(a, port), nil
	}
	a, err := netip.ParseAddr(s)
	return netip.AddrPortFrom(a, 53), err
}
