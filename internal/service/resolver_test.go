package service

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/config"
)

// startAuth serves text as origin from a zone file on a loopback port.
func startAuth(t *testing.T, origin, text string) netip.AddrPort {
	t.Helper()
	f := filepath.Join(t.TempDir(), "zone")
	writeFile(t, f, text)
	a, err := NewAuth(&config.Auth{Listen: loopback0, Zones: []config.AuthZone{{Origin: origin, File: f}}}, AuthOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, a) })
	udp, _ := a.Addrs()
	return udp[0]
}

// The resolver's reload rules: forwarders and the ACL change at once, the
// cache is kept; and its metrics endpoint serves and flushes.
func TestResolverLifecycle(t *testing.T) {
	upstream := startAuth(t, "corp.test", soaZone("corp.test.", 1)+"www 300 IN A 10.0.0.1\nmail 300 IN A 10.0.0.2\n")
	hints := filepath.Join(t.TempDir(), "hints")
	// The hinted root is an address where nothing listens: only forwarding works.
	writeFile(t, hints, ". 3600 NS a.root.\na.root. 3600 A 127.0.0.9\n")
	cfg := func(zone string) *config.Resolver {
		return &config.Resolver{
			Listen: loopback0, RootHints: hints, AllowLoopbackUpstream: true,
			Metrics: netip.MustParseAddrPort("127.0.0.1:0"),
			Forward: []config.Forward{{Zone: zone, Servers: config.Servers{upstream}}},
			// A private zone under no signed parent: not validated
			// (RFC 7646), as a validating resolver is configured for it.
			Insecure: []string{zone},
		}
	}
	r, err := NewResolver(cfg("corp.test"), ResolverOptions{UpstreamTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, r)
	udp, _ := r.Addrs()
	ask := func(name string) *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion(name, dns.TypeA)
		resp, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, udp[0].String())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return resp
	}
	for _, name := range []string{"www.corp.test.", "mail.corp.test."} {
		if resp := ask(name); resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 || !resp.RecursionAvailable {
			t.Fatalf("%s: %v", name, resp)
		}
	}
	maddr := r.MetricsAddr()
	if !maddr.IsValid() || maddr.Port() == 0 {
		t.Fatalf("metrics address %v", maddr)
	}
	resp, err := http.Get("http://" + maddr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !strings.Contains(string(body), "rootline_resolver_upstream_queries_total 2") {
		t.Fatalf("metrics: %v\n%s", err, body)
	}
	if resp, err := http.Post("http://"+maddr.String()+"/cache/flush?name=www.corp.test", "text/plain", nil); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("flush: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}

	// corp.test is no longer forwarded: the flushed name fails (the only
	// root is dead), the cached one is still answered.
	if err := r.Reload(ctx, cfg("elsewhere.test")); err != nil {
		t.Fatal(err)
	}
	if resp := ask("mail.corp.test."); resp.Rcode != dns.RcodeSuccess || len(resp.Answer) != 1 {
		t.Fatalf("cached name after reload: %v", resp)
	}
	if resp := ask("www.corp.test."); resp.Rcode != dns.RcodeServerFailure {
		t.Fatalf("no longer forwarded name: %v", resp)
	}

	// The ACL changes at once: loopback is no longer allowed.
	c := cfg("elsewhere.test")
	c.Allow = config.Prefixes{netip.MustParsePrefix("192.0.2.0/24")}
	if err := r.Reload(ctx, c); err != nil {
		t.Fatal(err)
	}
	if resp := ask("mail.corp.test."); resp.Rcode != dns.RcodeRefused {
		t.Fatalf("client outside the ACL: %v", resp)
	}
}

func TestNewResolverBadHints(t *testing.T) {
	_, err := NewResolver(&config.Resolver{Listen: loopback0, RootHints: filepath.Join(t.TempDir(), "none")}, ResolverOptions{})
	if err == nil || !strings.Contains(err.Error(), "root hints") || !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v", err)
	}
}

// Root hints on loopback without allow-loopback-upstream are refused at
// start, as loopback forwarders are: otherwise every query would be
// SERVFAIL with only "no server answered" in the log.
func TestNewResolverLoopbackHints(t *testing.T) {
	hints := filepath.Join(t.TempDir(), "hints")
	writeFile(t, hints, ". 3600 NS a.root.\na.root. 3600 A 127.0.0.9\na.root. 3600 AAAA ::1\n")
	for _, tc := range []struct {
		name  string
		allow bool
		ok    bool
	}{{"refused", false, false}, {"allowed", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewResolver(&config.Resolver{Listen: loopback0, RootHints: hints, AllowLoopbackUpstream: tc.allow}, ResolverOptions{})
			if tc.ok != (err == nil) {
				t.Fatalf("err = %v", err)
			}
			if err != nil && (!strings.Contains(err.Error(), "127.0.0.9") || !strings.Contains(err.Error(), "allow-loopback-upstream") ||
				!strings.Contains(err.Error(), hints)) {
				t.Fatalf("unclear error: %v", err)
			}
		})
	}
}
