package web

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"net/netip"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/resolver"
	"github.com/rootline-dns/rootline/internal/server"
)

// fakeLab records the faults switched.
type fakeLab struct{ set []string }

func (f *fakeLab) state() LabState { return LabState{Servers: []LabServer{{Name: "ns1.test."}}} }
func (f *fakeLab) setFault(server, fault string) error {
	f.set = append(f.set, server+"="+fault)
	return nil
}

func testOptions(explained *[]string, fl *fakeLab) Options {
	var lab *Lab
	if fl != nil {
		lab = &Lab{State: fl.state, SetFault: fl.setFault}
	}
	return Options{
		Explain: func(_ context.Context, name string, qtype uint16, client netip.AddrPort) (*Explanation, error) {
			*explained = append(*explained, name+" "+dns.TypeToString[qtype]+" from "+client.Addr().String())
			return Explain(name, qtype, nil, nil, 0), nil
		},
		Stats: func() Stats { return Stats{Queries: 7} },
		Lab:   lab,
	}
}

// Who may do what: explanations and fault switches from loopback only,
// switches with the page's header only, and nothing for a Host that names
// another site (DNS rebinding).
func TestHandlerAccess(t *testing.T) {
	var explained []string
	lab := &fakeLab{}
	h := Handler(testOptions(&explained, lab))
	tests := []struct {
		name, method, target, remote, host string
		header                             bool
		want                               int
	}{
		{"page", "GET", "/", "192.0.2.7:1000", "192.0.2.1:8053", false, 200},
		{"stats from afar", "GET", "/api/stats", "192.0.2.7:1000", "[2001:db8::1]:8053", false, 200},
		{"explain", "GET", "/api/explain?name=www.example.com&type=aaaa", "127.0.0.1:1000", "localhost:8053", false, 200},
		{"explain from afar", "GET", "/api/explain?name=www.example.com", "192.0.2.7:1000", "192.0.2.1:8053", false, 403},
		{"explain over v6 loopback", "GET", "/api/explain?name=example.com", "[::1]:1000", "[::1]:8053", false, 200},
		{"explain without name", "GET", "/api/explain", "127.0.0.1:1000", "127.0.0.1:8053", false, 400},
		{"explain bad name", "GET", "/api/explain?name=a..b", "127.0.0.1:1000", "127.0.0.1:8053", false, 400},
		{"explain bad type", "GET", "/api/explain?name=a.b&type=NOSUCH", "127.0.0.1:1000", "127.0.0.1:8053", false, 400},
		{"rebinding", "GET", "/api/stats", "127.0.0.1:1000", "evil.example:8053", false, 421},
		{"fault", "POST", "/api/lab/fault?server=ns1.test&fault=lame", "127.0.0.1:1000", "127.0.0.1:8053", true, 200},
		{"fault without header", "POST", "/api/lab/fault?server=ns1.test&fault=drop", "127.0.0.1:1000", "127.0.0.1:8053", false, 403},
		{"fault from afar", "POST", "/api/lab/fault?server=ns1.test&fault=down", "192.0.2.7:1000", "192.0.2.1:8053", true, 403},
		{"lab", "GET", "/api/lab", "127.0.0.1:1000", "127.0.0.1:8053", false, 200},
		{"nothing else", "GET", "/api/nosuch", "127.0.0.1:1000", "127.0.0.1:8053", false, 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.target, nil)
			req.RemoteAddr, req.Host = tc.remote, tc.host
			if tc.header {
				req.Header.Set("X-Rootline", "1")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != tc.want {
				t.Errorf("%s %s from %s: %d, want %d (%s)", tc.method, tc.target, tc.remote, w.Code, tc.want, w.Body)
			}
		})
	}
	want := []string{"www.example.com. AAAA from 127.0.0.1", "example.com. A from ::1"}
	if strings.Join(explained, "|") != strings.Join(want, "|") {
		t.Errorf("explained %q, want %q", explained, want)
	}
	if strings.Join(lab.set, "|") != "ns1.test=lame" {
		t.Errorf("faults set %q, want only ns1.test=lame", lab.set)
	}
	// Without a lab, no panel.
	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/api/lab", nil)
	req.RemoteAddr, req.Host = "127.0.0.1:1", "127.0.0.1:8053"
	Handler(testOptions(&explained, nil)).ServeHTTP(w, req)
	if w.Code != 404 {
		t.Errorf("resolver's /api/lab: %d, want 404", w.Code)
	}
}

func TestCheckAddr(t *testing.T) {
	for _, tc := range []struct {
		addr   string
		remote bool
		ok     bool
	}{
		{"127.0.0.1:8053", false, true},
		{"[::1]:8053", false, true},
		{"127.53.0.53:0", false, true},
		{"0.0.0.0:8053", false, false},
		{"192.0.2.1:8053", false, false},
		{"[::]:8053", false, false},
		{"0.0.0.0:8053", true, true},
	} {
		err := CheckAddr(netip.MustParseAddrPort(tc.addr), tc.remote)
		if (err == nil) != tc.ok {
			t.Errorf("CheckAddr(%s, %v) = %v, want ok %v", tc.addr, tc.remote, err, tc.ok)
		}
		if err != nil && !strings.Contains(err.Error(), "--web-allow-remote") {
			t.Errorf("error %q does not say how to allow it", err)
		}
	}
}

// The page works offline: nothing is loaded from elsewhere, it is light,
// and it is served gzipped to clients that take it.
func TestPageOffline(t *testing.T) {
	if n := len(page); n > 16<<10 {
		t.Errorf("page is %d bytes; keep it under 16 KiB", n)
	}
	if m := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|@import|url\(`).Find(page); m != nil {
		t.Errorf("page loads something from elsewhere: %q", m)
	}
	for _, want := range []string{`id:"path"`, "/api/explain", "/api/stats", "/api/lab", "data-zone", "setInterval(stats,2000)", `name="viewport"`} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("page lacks %q", want)
		}
	}
	var explained []string
	req := httptest.NewRequest("GET", "/", nil)
	req.RemoteAddr, req.Host = "127.0.0.1:1", "127.0.0.1:8053"
	req.Header.Set("Accept-Encoding", "gzip, br")
	w := httptest.NewRecorder()
	Handler(testOptions(&explained, nil)).ServeHTTP(w, req)
	if w.Header().Get("Content-Encoding") != "gzip" {
		t.Fatalf("not gzipped: %v", w.Header())
	}
	zipped := w.Body.Len()
	zr, err := gzip.NewReader(w.Body)
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(b, page) {
		t.Fatalf("gzipped page differs (%v)", err)
	}
	t.Logf("page: %d bytes, %d gzipped", len(page), zipped)
}

func TestQueriesBuckets(t *testing.T) {
	var q Queries
	reply := make([]byte, 12)
	for _, d := range []time.Duration{50 * time.Microsecond, 100 * time.Microsecond, 2 * time.Millisecond, 5 * time.Second} {
		q.Observe(&server.Request{}, reply, d)
	}
	q.Observe(&server.Request{CacheHit: true}, reply, time.Microsecond)
	q.Observe(&server.Request{}, nil, time.Microsecond) // no reply: not counted
	var s Stats
	q.Fill(&s)
	if s.Queries != 5 || s.CacheHits != 1 {
		t.Errorf("queries %d hits %d, want 5 and 1", s.Queries, s.CacheHits)
	}
	got := map[float64]uint64{}
	for _, b := range s.Latency {
		got[b.LE] = b.Count
	}
	if got[0.1] != 3 || got[3] != 1 || got[0] != 1 || len(s.Latency) != len(bounds)+1 {
		t.Errorf("buckets %+v", s.Latency)
	}
	// Stats is JSON the page reads.
	b, _ := json.Marshal(s)
	for _, k := range []string{`"queries":5`, `"cache_hits":1`, `"le_ms":0.1`} {
		if !bytes.Contains(b, []byte(k)) {
			t.Errorf("stats JSON lacks %s: %s", k, b)
		}
	}
}

func TestMemory(t *testing.T) {
	heap, rss := Memory()
	if heap == 0 {
		t.Error("no heap reading")
	}
	if runtime.GOOS == "linux" && rss < heap/2 {
		t.Errorf("RSS %d with a heap of %d", rss, heap)
	}
}

func msg(rcode int, answer, ns []string) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion("www.example.com.", dns.TypeA)
	m.Response, m.Rcode = true, rcode
	for _, s := range answer {
		m.Answer = append(m.Answer, mustRR(s))
	}
	for _, s := range ns {
		m.Ns = append(m.Ns, mustRR(s))
	}
	return m
}

func mustRR(s string) dns.RR {
	rr, err := dns.NewRR(s)
	if err != nil {
		panic(err)
	}
	return rr
}

func TestSourceAndSentences(t *testing.T) {
	ap := netip.MustParseAddrPort("127.53.0.7:53")
	tests := []struct {
		name   string
		events []resolver.Event
		reply  *dns.Msg
		source string
		says   []string
	}{
		{"local", []resolver.Event{{Kind: resolver.EventLocal, Zone: "home.arpa.", Rcode: "NOERROR"}},
			msg(0, []string{"www.example.com. 3600 IN A 192.0.2.1"}, nil), SourceLocal, []string{"local zone home.arpa."}},
		{"hosts", []resolver.Event{{Kind: resolver.EventLocal, Zone: "example.com.", Hosts: true}},
			msg(0, []string{"www.example.com. 3600 IN A 192.0.2.1"}, nil), SourceHosts, []string{"hosts file"}},
		{"cache", []resolver.Event{{Kind: resolver.EventCache, Name: "www.example.com.", Type: "A", Entry: "positive", Rank: "authoritative answer", TTL: 99}},
			msg(0, []string{"www.example.com. 99 IN A 192.0.2.1"}, nil), SourceCacheFresh, []string{"99 seconds of its TTL left"}},
		{"stale", []resolver.Event{
			{Kind: resolver.EventExchange, Zone: "example.com.", Addr: ap, Name: "www.example.com.", Type: "A", Outcome: "timeout", RTT: time.Second},
			{Kind: resolver.EventFailure, Zone: "example.com.", Why: "no server answered for example.com."},
			{Kind: resolver.EventStale}, {Kind: resolver.EventCache, Name: "www.example.com.", Type: "A", Entry: "positive", Stale: true, TTL: 30}},
			msg(0, []string{"www.example.com. 30 IN A 192.0.2.1"}, nil), SourceCacheStale, []string{"serve-stale", "no reply within 1000.0 ms", "past its TTL"}},
		{"nxdomain", []resolver.Event{{Kind: resolver.EventExchange, Zone: "example.com.", Server: "ns1.example.com.", Addr: ap, Name: "www.example.com.",
			Type: "A", Outcome: "nxdomain", SOA: "example.com.", Transport: "udp", RTT: 40 * time.Microsecond}},
			msg(dns.RcodeNameError, nil, []string{"example.com. 300 IN SOA ns1.example.com. h.example.com. 1 2 3 4 300"}), SourceResolved,
			[]string{"ns1.example.com. (127.53.0.7)", "NXDOMAIN, said by the zone example.com.", "40 µs, UDP", "the zone example.com. said so"}},
		{"validator's queries are not the answer's source", []resolver.Event{
			{Kind: resolver.EventCache, Name: "www.example.com.", Type: "A", Entry: "positive"},
			{Kind: resolver.EventExchange, Purpose: resolver.PurposeDNSSEC, Zone: "example.com.", Addr: ap, Name: "example.com.", Type: "DNSKEY", Outcome: "answer"}},
			msg(0, []string{"www.example.com. 99 IN A 192.0.2.1"}, nil), SourceCacheFresh, []string{"For the DNSSEC chain: asked"}},
		{"budget", []resolver.Event{{Kind: resolver.EventFailure, Budget: resolver.BudgetCNAME, Why: "query budget: 11 CNAME restarts"}},
			msg(dns.RcodeServerFailure, nil, nil), SourceResolved, []string{"a budget ran out: query budget: 11 CNAME restarts", "SERVFAIL"}},
		{"truncated", []resolver.Event{{Kind: resolver.EventExchange, Zone: "example.com.", Addr: ap, Name: "www.example.com.", Type: "A",
			Outcome: "answer", Transport: "tcp", Truncated: true}}, msg(0, []string{"www.example.com. 3600 IN A 192.0.2.1"}, nil), SourceResolved,
			[]string{"truncated (TC), so the question went again over TCP"}},
		{"dropped", []resolver.Event{{Kind: resolver.EventLocal, Zone: "bad.example.", Why: "dropped"}}, nil, SourceLocal, []string{"drops this query"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := Explain("www.example.com.", dns.TypeA, tc.reply, tc.events, time.Millisecond)
			if e.Source != tc.source {
				t.Errorf("source %s, want %s", e.Source, tc.source)
			}
			all := strings.Join(e.Sentences, "\n")
			for _, s := range tc.says {
				if !strings.Contains(all, s) {
					t.Errorf("sentences lack %q:\n%s", s, all)
				}
			}
			for _, s := range e.Sentences {
				if strings.HasSuffix(s, "..") || !strings.HasSuffix(s, ".") {
					t.Errorf("sentence %q does not end in one full stop", s)
				}
			}
		})
	}
}

// question reads any input without panicking, and what it accepts is a
// fully qualified domain name and a real type.
func FuzzQuestion(f *testing.F) {
	for _, s := range [][2]string{{"www.example.com", "A"}, {"example.com.", "aaaa"}, {"", ""}, {"a..b", "TXT"}, {`\046.x`, "TYPE65280"}, {"x", "OPT"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, name, typ string) {
		n, qt, err := question(name, typ)
		if err != nil {
			return
		}
		if !dns.IsFqdn(n) || qt == dns.TypeNone || qt == dns.TypeOPT {
			t.Fatalf("question(%q, %q) = %q, %d", name, typ, n, qt)
		}
		if _, ok := dns.IsDomainName(n); !ok {
			t.Fatalf("accepted %q", n)
		}
	})
}

// Every phrase the code asks for is in phrases.txt, and every line there
// is a comment or a key and a template.
func TestPhrases(t *testing.T) {
	keys := []string{"source hosts", "source cache-stale", "source cache-fresh", "source resolved", "source tried", "local",
		"local dropped", "coalesced", "start cached", "start root", "minimised", "exchange", "exchange forwarder",
		"exchange quickest", "exchange timing", "exchange truncated", "outcome ", "skip", "failure", "failure budget",
		"failure zone", "dnssec cached", "reply", "reply nxdomain", "reply nodata", "reply answer", "reply servfail", "ede"}
	for _, e := range []string{"positive", "nxdomain", "nodata", "failure", "synthesised"} {
		keys = append(keys, "cache "+e)
	}
	for _, o := range []string{"referral", "answer", "cname", "nxdomain", "nodata", "lame", "refused", "servfail", "formerr", "yxdomain", "timeout", "error"} {
		keys = append(keys, "outcome "+o)
	}
	for _, p := range []string{resolver.PurposePriming, resolver.PurposeNSAddress, resolver.PurposeDNSSEC} {
		keys = append(keys, "purpose "+p)
	}
	for _, s := range []string{"secure", "insecure", "bogus"} {
		keys = append(keys, "dnssec "+s)
	}
	for _, k := range keys {
		if phrase(k) == "" {
			t.Errorf("no phrase %q", k)
		}
	}
	for i, line := range strings.Split(strings.TrimSuffix(string(phrases), "\n"), "\n") {
		if _, tpl, ok := strings.Cut(line, "\t"); !strings.HasPrefix(line, "#") && (!ok || tpl == "" || strings.Count(tpl, "{") != strings.Count(tpl, "}")) {
			t.Errorf("phrases.txt:%d: %q: want KEY, a tab and a template", i+1, line)
		}
	}
}

// ParseText reads what WriteText writes, and anything else without
// panicking.
func FuzzParseText(f *testing.F) {
	f.Add(WriteText(&Explanation{Reply: []byte{1, 2, 3}, Elapsed: 1500, Sentences: []string{"One.", "Two."}}))
	f.Add(WriteText(&Explanation{}))
	f.Add([]byte("reply -\nelapsed x\n"))
	f.Add([]byte("reply !!\nelapsed 1\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := ParseText(b)
		if err != nil {
			return
		}
		again, err := ParseText(WriteText(e))
		if err != nil || !bytes.Equal(again.Reply, e.Reply) || again.Elapsed != e.Elapsed || strings.Join(again.Sentences, "\n") != strings.Join(e.Sentences, "\n") {
			t.Fatalf("round trip of %q: %+v, %v", b, again, err)
		}
	})
}
