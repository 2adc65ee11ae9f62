package lab

import (
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/resolver"
	"github.com/rootline-dns/rootline/internal/web"
)

// chainLinks is the length of the CNAME chain webZones adds, alternating
// between example.com and example.net so that every link is a restart:
// one more than the resolver's budget allows.
const chainLinks = resolver.MaxCNAMERestarts + 2

// webZones is the embedded hierarchy plus a CNAME chain too long for the
// resolver (chain0.example.com -> chain1.example.net -> ...).
func webZones(t *testing.T) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(Zones(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(Zones(), p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	zoneOf := func(i int) string { return [2]string{"example.com.", "example.net."}[i%2] }
	for i := range chainLinks {
		f := m[zoneOf(i)+"zone"]
		f.Data = fmt.Appendf(f.Data, "chain%d.%s 300 IN CNAME chain%d.%s\n", i, zoneOf(i), i+1, zoneOf(i+1))
	}
	f := m[zoneOf(chainLinks)+"zone"]
	f.Data = fmt.Appendf(f.Data, "chain%d.%s 300 IN A 192.0.2.99\n", chainLinks, zoneOf(chainLinks))
	return m
}

// startWebLab starts a lab with its web page on loopback.
func startWebLab(t *testing.T, opt Options) (*Lab, string) {
	t.Helper()
	opt.ListenBase = netip.MustParseAddr("127.83.0.0")
	opt.Web = netip.MustParseAddrPort("127.83.0.200:0")
	l := startLab(t, opt)
	wa := l.WebAddr()
	if !wa.IsValid() {
		t.Fatal("lab has no web address")
	}
	return l, "http://" + wa.String()
}

// explain asks the lab's explain endpoint about (name, qtype).
func explain(t *testing.T, base, name, qtype string) *web.Explanation {
	t.Helper()
	resp, err := http.Get(base + "/api/explain?" + url.Values{"name": {name}, "type": {qtype}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("explain %s: %s: %s", name, resp.Status, body)
	}
	var e web.Explanation
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("explain %s: %v\n%s", name, err, body)
	}
	t.Logf("%s %s: source %s, %s\n  %s", name, qtype, e.Source, e.Rcode, strings.Join(e.Sentences, "\n  "))
	return &e
}

// events returns e's events of kind k recorded for the question itself.
func events(e *web.Explanation, k resolver.EventKind) []resolver.Event {
	var out []resolver.Event
	for _, ev := range e.Events {
		if ev.Kind == k && ev.Purpose == "" {
			out = append(out, ev)
		}
	}
	return out
}

func said(e *web.Explanation, part string) bool {
	return slices.ContainsFunc(e.Sentences, func(s string) bool { return strings.Contains(s, part) })
}

// The explain endpoint tells what the resolver did, through the real
// handler path of the lab's resolver: a cold resolution walks root ->
// TLD -> leaf, the same question again is a cache hit, a local zone
// answers without the cache, an NXDOMAIN names the zone that said so,
// and SERVFAILs name the budget or the zone that failed, with the EDE.
func TestWebExplain(t *testing.T) {
	l, base := startWebLab(t, Options{Zones: webZones(t)})

	t.Run("cold", func(t *testing.T) {
		e := explain(t, base, "www.example.com", "A")
		if e.Source != web.SourceResolved || e.Rcode != "NOERROR" || len(e.Answer) != 1 || !e.AD {
			t.Fatalf("source %s rcode %s answer %v AD %v, want resolved NOERROR, one record, AD", e.Source, e.Rcode, e.Answer, e.AD)
		}
		var path []string
		for _, ev := range events(e, resolver.EventExchange) {
			path = append(path, ev.Zone+" "+ev.Outcome)
			if ev.Server == "" || !ev.Addr.IsValid() || ev.Transport != "udp" {
				t.Errorf("exchange %+v: want a named server, its address and the transport", ev)
			}
		}
		want := []string{". referral", "com. referral", "example.com. answer"}
		if !slices.Equal(path, want) {
			t.Errorf("path %q, want %q", path, want)
		}
		if ex := events(e, resolver.EventExchange); len(ex) > 0 && ex[0].Child != "com." {
			t.Errorf("root's referral to %q, want com.", ex[0].Child)
		}
		v := events(e, resolver.EventValidation)
		if len(v) != 1 || v[0].Security != "secure" || v[0].Cached {
			t.Fatalf("validation events %+v, want one secure verdict, judged now", v)
		}
		var chain []string
		for _, c := range v[0].Chain {
			chain = append(chain, c.Zone)
		}
		if !slices.Equal(chain, []string{".", "com.", "example.com."}) {
			t.Errorf("chain of trust %q", chain)
		}
		if !said(e, "referred the resolver to com.") || !said(e, "Resolved now") {
			t.Errorf("sentences do not tell the walk")
		}
		r := new(dns.Msg)
		if err := r.Unpack(e.Reply); err != nil || len(r.Answer) != 1 {
			t.Errorf("reply (%d bytes): %v", len(e.Reply), err)
		}
	})

	t.Run("again", func(t *testing.T) {
		e := explain(t, base, "www.example.com", "A")
		if e.Source != web.SourceCacheFresh {
			t.Fatalf("source %s, want %s", e.Source, web.SourceCacheFresh)
		}
		if ex := events(e, resolver.EventExchange); len(ex) != 0 {
			t.Errorf("a cache hit sent queries: %+v", ex)
		}
		c := events(e, resolver.EventCache)
		if len(c) != 1 || c[0].Entry != "positive" || c[0].Rank != "authoritative answer" || c[0].TTL == 0 || c[0].TTL > 3600 || c[0].Stale {
			t.Errorf("cache events %+v, want the fresh authoritative answer with its TTL left", c)
		}
	})

	t.Run("local", func(t *testing.T) {
		e := explain(t, base, "localhost", "A")
		lz := events(e, resolver.EventLocal)
		if e.Source != web.SourceLocal || len(lz) != 1 || lz[0].Zone != "localhost." || e.Rcode != "NOERROR" {
			t.Fatalf("source %s, local events %+v, rcode %s", e.Source, lz, e.Rcode)
		}
		if len(e.Events) != 1 {
			t.Errorf("a local answer did more: %+v", e.Events)
		}
	})

	t.Run("nxdomain", func(t *testing.T) {
		e := explain(t, base, "nope.example.com", "A")
		if e.Rcode != "NXDOMAIN" || e.Source != web.SourceResolved {
			t.Fatalf("rcode %s source %s", e.Rcode, e.Source)
		}
		ex := events(e, resolver.EventExchange)
		if len(ex) == 0 || ex[len(ex)-1].Outcome != "nxdomain" || ex[len(ex)-1].SOA != "example.com." || ex[len(ex)-1].Zone != "example.com." {
			t.Fatalf("exchanges %+v, want the last an NXDOMAIN from example.com.'s server with its SOA", ex)
		}
		if st := events(e, resolver.EventStart); len(st) != 1 || st[0].Zone != "example.com." || !st[0].Cached {
			t.Errorf("start %+v, want the cached example.com. delegation", st)
		}
		if !said(e, "the zone example.com. said so") {
			t.Error("sentences do not say which zone said so")
		}
	})

	t.Run("budget", func(t *testing.T) {
		e := explain(t, base, "chain0.example.com", "A")
		f := events(e, resolver.EventFailure)
		if e.Rcode != "SERVFAIL" || len(f) != 1 || f[0].Budget != resolver.BudgetCNAME {
			t.Fatalf("rcode %s, failures %+v, want SERVFAIL with the CNAME budget", e.Rcode, f)
		}
		if len(e.EDE) != 1 || e.EDE[0].Code != dns.ExtendedErrorCodeOther || !strings.Contains(e.EDE[0].Text, "CNAME restarts") {
			t.Errorf("EDE %+v, want 0 naming the budget", e.EDE)
		}
		if !said(e, "a budget ran out") {
			t.Error("sentences do not name the budget")
		}
	})

	t.Run("down", func(t *testing.T) {
		if err := l.SetFault("ns1.example.com", Down); err != nil {
			t.Fatal(err)
		}
		e := explain(t, base, "mail.example.com", "A")
		f := events(e, resolver.EventFailure)
		if e.Rcode != "SERVFAIL" || len(f) != 1 || f[0].Zone != "example.com." {
			t.Fatalf("rcode %s, failures %+v, want SERVFAIL naming example.com.", e.Rcode, f)
		}
		if len(e.EDE) != 1 || (e.EDE[0].Code != dns.ExtendedErrorCodeNetworkError && e.EDE[0].Code != dns.ExtendedErrorCodeNoReachableAuthority) {
			t.Errorf("EDE %+v, want 23 or 22", e.EDE)
		}
		failed := 0
		for _, ev := range e.Events {
			if ev.Kind == resolver.EventExchange && ev.Zone == "example.com." && (ev.Outcome == "error" || ev.Outcome == "timeout") {
				failed++
			}
		}
		if failed == 0 {
			t.Errorf("no failed exchange with example.com.'s server recorded")
		}
	})
}

// The explain endpoint and the fault switches answer loopback clients
// only, and the switches need the page's header (a form posted by another
// site cannot set it); the panel reflects a switched fault.
func TestWebLabPanel(t *testing.T) {
	l, base := startWebLab(t, Options{Unsigned: true})
	post := func(header bool, server, fault string) int {
		req, _ := http.NewRequest(http.MethodPost, base+"/api/lab/fault?"+url.Values{"server": {server}, "fault": {fault}}.Encode(), nil)
		if header {
			req.Header.Set("X-Rootline", "1")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := post(false, "a.gtld-servers.test", "lame"); code != http.StatusForbidden {
		t.Errorf("without the header: %d, want 403", code)
	}
	if f := l.Fault("a.gtld-servers.test"); f != None {
		t.Fatalf("fault %s switched without the header", f)
	}
	if code := post(true, "a.gtld-servers.test", "lame"); code != http.StatusOK {
		t.Fatalf("switch: %d", code)
	}
	if f := l.Fault("a.gtld-servers.test"); f != Lame {
		t.Fatalf("fault %s, want lame", f)
	}
	if code := post(true, "nosuch.test", "lame"); code != http.StatusBadRequest {
		t.Errorf("unknown server: %d, want 400", code)
	}
	resp, err := http.Get(base + "/api/lab")
	if err != nil {
		t.Fatal(err)
	}
	var st web.LabState
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(st.Servers, func(s web.LabServer) bool { return s.Name == "a.gtld-servers.test." })
	if i < 0 || st.Servers[i].Fault != "lame" {
		t.Errorf("panel servers %+v: want a.gtld-servers.test. lame", st.Servers)
	}
	for _, f := range st.Faults {
		if f.Default == "" {
			t.Errorf("fault %+v lacks its default server", f)
		}
		if !strings.Contains(web.Page(), "\n"+f.Name+":[") && !strings.Contains(web.Page(), "{"+f.Name+":[") {
			t.Errorf("the page does not say what fault %s does and what to watch for", f.Name)
		}
	}
	if len(st.Faults) != 5 {
		t.Errorf("%d switchable faults, want lame, slow, drop, truncate, down", len(st.Faults))
	}
	// The lame server is passed over: the next com. server answers.
	e := explain(t, base, "www.example.com", "A")
	if e.Rcode != "NOERROR" {
		t.Fatalf("rcode %s", e.Rcode)
	}
	var outcomes []string
	for _, ev := range events(e, resolver.EventExchange) {
		if ev.Zone == "com." {
			outcomes = append(outcomes, ev.Server+" "+ev.Outcome)
		}
	}
	if !slices.Contains(outcomes, "a.gtld-servers.test. refused") {
		t.Errorf("com. exchanges %q: want the lame server's refusal recorded", outcomes)
	}
}
