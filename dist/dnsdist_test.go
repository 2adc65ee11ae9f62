package dist

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/lab"
)

// dnsdistConf is the configuration docs/dnsdist.md explains, with the
// test's addresses: two Rootline resolvers behind one dnsdist, a health
// check that must resolve a name, and a consistent hash of the query name
// so each name always reaches the same resolver and its cache stays warm.
const dnsdistConf = `setSecurityPollSuffix("")
setLocal("%[1]s")
setACL({"127.0.0.0/8"})
newServer({address="%[2]s", name="r1", checkName="www.example.com.", mustResolve=true, checkInterval=1, checkTimeout=1000, maxCheckFailures=2, rise=1})
newServer({address="%[3]s", name="r2", checkName="www.example.com.", mustResolve=true, checkInterval=1, checkTimeout=1000, maxCheckFailures=2, rise=1})
setServerPolicy(chashed)
webserver("%[4]s")
setWebserverConfig({apiKey="rootline-test", acl="127.0.0.0/8"})
`

// TestDNSDistInFront runs two Rootline resolvers over the lab behind
// dnsdist (Debian's package): every query is answered, one name always
// goes to the same resolver, and after one resolver is killed clients go
// on getting answers from the other once dnsdist's health check has
// marked it down.
func TestDNSDistInFront(t *testing.T) {
	dnsdist := peers.Need(t, "dnsdist")
	base := netipAddr(t, "127.62.0.0")
	l, err := lab.Start(context.Background(), lab.Options{NoResolver: true, Unsigned: true, ListenBase: base, Port: peers.FreePort(t, base.Next())})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	dir := t.TempDir()
	var hints strings.Builder
	for _, rr := range l.RootHints() {
		hints.WriteString(rr.String() + "\n")
	}
	hintsFile := filepath.Join(dir, "root.hints")
	if err := os.WriteFile(hintsFile, []byte(hints.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	bin := buildRootline(t)

	// Two resolvers, each a process of its own (one gets killed).
	var resolvers [2]*exec.Cmd
	var addrs [2]string
	for i := range resolvers {
		a := netipAddr(t, fmt.Sprintf("127.62.1.%d", i+1))
		addrs[i] = netip.AddrPortFrom(a, peers.FreePort(t, a)).String()
		cmd := exec.Command(bin, "resolver", "--listen", addrs[i], "--root-hints", hintsFile,
			"--allow-loopback-upstream", "--upstream-port", itoa(int(l.Port())), "--no-dnssec")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		resolvers[i] = cmd
		defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	}
	for _, a := range addrs {
		if _, err := ask(a, "www.example.com.", 40); err != nil {
			t.Fatalf("resolver %s: %v", a, err)
		}
	}

	front := netipAddr(t, "127.62.2.1")
	listen := netip.AddrPortFrom(front, peers.FreePort(t, front)).String()
	web := netip.AddrPortFrom(front, peers.FreePort(t, front)).String()
	conf := filepath.Join(dir, "dnsdist.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(dnsdistConf, listen, addrs[0], addrs[1], web)), 0o644); err != nil {
		t.Fatal(err)
	}
	dd := exec.Command(dnsdist, "--supervised", "--disable-syslog", "-C", conf)
	out := &strings.Builder{}
	dd.Stdout, dd.Stderr = out, out
	if err := dd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = dd.Process.Kill(); _ = dd.Wait() }()
	if _, err := ask(listen, "www.example.com.", 50); err != nil {
		t.Fatalf("dnsdist at %s: %v\n%s", listen, err, out)
	}

	// Both must be up before the spread is measured: on a loaded machine
	// a first health check can time out and mark one down for a while.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		st := backendState(t, web)
		if st["r1"] == "up" && st["r2"] == "up" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("dnsdist backends not both up: %v\n%s", st, out)
		}
	}

	// The consistent hash: one name, asked many times, reaches one
	// resolver only.
	before := backendQueries(t, web)
	for range 20 {
		if _, err := ask(listen, "mail.example.com.", 1); err != nil {
			t.Fatalf("through dnsdist: %v", err)
		}
	}
	after := backendQueries(t, web)
	d1, d2 := after["r1"]-before["r1"], after["r2"]-before["r2"]
	if !(d1 == 20 && d2 == 0 || d1 == 0 && d2 == 20) {
		t.Errorf("20 queries for one name went %v to r1 and %v to r2: not consistently hashed", d1, d2)
	}
	// Many names spread over both.
	for i := range 64 {
		if _, err := ask(listen, fmt.Sprintf("host%d.example.com.", i), 1); err != nil {
			t.Fatalf("through dnsdist: %v", err)
		}
	}
	spread := backendQueries(t, web)
	if spread["r1"] == after["r1"] || spread["r2"] == after["r2"] {
		t.Errorf("64 names did not reach both resolvers: %v -> %v", after, spread)
	}

	// Kill the resolver that serves mail.example.com.; once dnsdist's
	// health check (every second) has marked it down, every query is
	// answered by the other.
	victim := 0
	if d2 == 20 {
		victim = 1
	}
	if err := resolvers[victim].Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = resolvers[victim].Wait()
	killed := time.Now()
	deadline := killed.Add(10 * time.Second)
	for backendState(t, web)[fmt.Sprintf("r%d", victim+1)] != "down" {
		if time.Now().After(deadline) {
			t.Fatalf("dnsdist never marked r%d down: %v", victim+1, backendState(t, web))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("dnsdist marked r%d down %v after it was killed", victim+1, time.Since(killed).Round(time.Millisecond))
	failed := 0
	for i := range 100 {
		name := "mail.example.com."
		if i%2 == 1 {
			name = fmt.Sprintf("host%d.example.com.", i)
		}
		if _, err := ask(listen, name, 1); err != nil {
			failed++
		}
	}
	if failed > 0 {
		t.Errorf("%d of 100 queries failed after the dead resolver was marked down", failed)
	}
}

// ask sends name A to server, trying up to tries times (a process still
// starting), and wants a real answer: NOERROR with records, or NXDOMAIN.
func ask(server, name string, tries int) (*dns.Msg, error) {
	c := &dns.Client{Timeout: time.Second}
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	var err error
	for range tries {
		var r *dns.Msg
		if r, _, err = c.Exchange(m, server); err == nil {
			if r.Rcode == dns.RcodeSuccess && len(r.Answer) > 0 || r.Rcode == dns.RcodeNameError {
				return r, nil
			}
			err = fmt.Errorf("%s: %s with %d answers: %v", name, dns.RcodeToString[r.Rcode], len(r.Answer), r)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, err
}

// dnsdistServer is what dnsdist's API says of a backend.
type dnsdistServer struct {
	Name    string  `json:"name"`
	State   string  `json:"state"`
	Queries float64 `json:"queries"`
}

func dnsdistServers(t *testing.T, web string) []dnsdistServer {
	t.Helper()
	req, err := http.NewRequest("GET", "http://"+web+"/api/v1/servers/localhost", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-API-Key", "rootline-test")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("dnsdist API: %v", err)
	}
	defer resp.Body.Close()
	var body struct {
		Servers []dnsdistServer `json:"servers"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("dnsdist API: %v", err)
	}
	return body.Servers
}

func backendQueries(t *testing.T, web string) map[string]float64 {
	out := map[string]float64{}
	for _, s := range dnsdistServers(t, web) {
		out[s.Name] = s.Queries
	}
	return out
}

func backendState(t *testing.T, web string) map[string]string {
	out := map[string]string{}
	for _, s := range dnsdistServers(t, web) {
		out[s.Name] = strings.ToLower(s.State)
	}
	return out
}
