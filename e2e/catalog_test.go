package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

// catalogOrigin is the catalog zone the tests publish (RFC 9432 4.1
// suggests a name under .invalid).
const catalogOrigin = "catalog.invalid."

func memberZone(origin string, serial uint32) string {
	return fmt.Sprintf("$ORIGIN %s\n$TTL 300\n@ SOA ns1 hostmaster %d 3600 600 86400 60\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.%d\n",
		origin, serial, serial)
}

// primaryConfig is the TOML of a Rootline primary publishing the catalog
// of zones (origin -> file), notifying targets.
func primaryConfig(listen netip.AddrPort, zones map[string]string, targets []netip.AddrPort) string {
	var b strings.Builder
	fmt.Fprintf(&b, "listen = [%q]\ncatalog = %q\nallow-transfer = [\"127.0.0.1/32\"]\nnotify = [", listen, catalogOrigin)
	for i, t := range targets {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", t)
	}
	b.WriteString("]\n")
	for origin, file := range zones {
		fmt.Fprintf(&b, "[[zone]]\norigin = %q\nfile = %q\n", origin, file)
	}
	return b.String()
}

// knotCatalogConsumer starts Knot interpreting our catalog: member zones
// from a template whose primary is ours.
func knotCatalogConsumer(t *testing.T, listen, primary netip.AddrPort) *peers.Server {
	t.Helper()
	dir := t.TempDir()
	// Knot does not answer queries for a catalog it interprets: wait for
	// it to answer at all, the members are waited for by the test.
	return startKnotConf(t, dir, listen, "info", nil, fmt.Sprintf(`remote:
  - id: primary
    address: %[2]s@%[3]d
acl:
  - id: notify
    address: 127.0.0.0/8
    action: notify
template:
  - id: default
    storage: %[1]q
    semantic-checks: off
  - id: members
    storage: %[1]q
    master: primary
    acl: notify
    semantic-checks: off
zone:
  - domain: %[4]s
    master: primary
    acl: notify
    catalog-role: interpret
    catalog-template: members
`, dir, primary.Addr(), primary.Port(), catalogOrigin))
}

// bindCatalogConsumer starts BIND (named) with our catalog as a catalog
// zone whose default primary is ours.
func bindCatalogConsumer(t *testing.T, listen, primary netip.AddrPort) *peers.Server {
	t.Helper()
	bin := peers.Need(t, "named")
	dir := t.TempDir()
	conf := fmt.Sprintf(`options {
	directory %[1]q;
	pid-file %[1]q "/named.pid";
	session-keyfile %[1]q "/session.key";
	managed-keys-directory %[1]q;
	listen-on port %[3]d { %[2]s; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	allow-new-zones yes;
	notify no;
	catalog-zones {
		zone %[6]q default-primaries { %[4]s port %[5]d; } in-memory yes;
	};
};
controls { };
zone %[6]q {
	type secondary;
	primaries { %[4]s port %[5]d; };
	file "catalog.db";
};
`, dir, listen.Addr(), listen.Port(), primary.Addr(), primary.Port(), catalogOrigin)
	conf = strings.ReplaceAll(conf, `" "/`, "/")
	path := filepath.Join(dir, "named.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return peers.StartProcess(t, "named", dir, []netip.AddrPort{listen}, []string{catalogOrigin}, bin, "-g", "-c", path)
}

// serves reports whether s answers origin's SOA authoritatively.
func serves(s *peers.Server, origin string) bool {
	q := new(dns.Msg)
	q.SetQuestion(origin, dns.TypeSOA)
	c := dns.Client{Timeout: time.Second}
	r, _, err := c.Exchange(q, s.Addrs[0].String())
	return err == nil && r.Rcode == dns.RcodeSuccess && r.Authoritative && len(r.Answer) == 1
}

func waitServes(t *testing.T, s *peers.Server, origin string, want bool) {
	t.Helper()
	deadline := time.Now().Add(xfrWait)
	for serves(s, origin) != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s: serving %s is still %v after %v\n%s", s.Name, origin, !want, xfrWait, s.LogTail())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestCatalogZones: a Rootline primary publishes a catalog of its zones;
// Knot, BIND and a Rootline secondary, each given only the catalog, serve
// every member zone, pick up a zone added to the primary and drop one
// removed, with no change to their own configuration.
func TestCatalogZones(t *testing.T) {
	bin := rootlineBin(t)
	dir := t.TempDir()
	files := map[string]string{}
	for i, o := range []string{"a.test.", "b.test.", "c.test."} {
		files[o] = filepath.Join(dir, strings.TrimSuffix(o, ".")+".zone")
		if err := os.WriteFile(files[o], []byte(memberZone(o, uint32(i+1))), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	pAddr, knotAddr, bindAddr, rlAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	targets := []netip.AddrPort{knotAddr, bindAddr, rlAddr}
	cfg := filepath.Join(dir, "primary.toml")
	write := func(origins ...string) {
		t.Helper()
		zs := map[string]string{}
		for _, o := range origins {
			zs[o] = files[o]
		}
		if err := os.WriteFile(cfg, []byte(primaryConfig(pAddr, zs, targets)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("a.test.", "b.test.")
	primary := peers.StartProcess(t, "rootline-primary", dir, []netip.AddrPort{pAddr}, []string{"a.test.", catalogOrigin}, bin,
		"auth", "--config", cfg)

	consumers := []*peers.Server{
		knotCatalogConsumer(t, knotAddr, pAddr),
		bindCatalogConsumer(t, bindAddr, pAddr),
		peers.StartProcess(t, "rootline-secondary", "", []netip.AddrPort{rlAddr}, []string{catalogOrigin}, bin,
			"auth", "--listen", rlAddr.String(), "--catalog-member-of", catalogOrigin+"="+pAddr.String()),
	}
	for _, c := range consumers {
		waitServes(t, c, "a.test.", true)
		waitServes(t, c, "b.test.", true)
		if serves(c, "c.test.") {
			t.Errorf("%s serves c.test. before it is in the catalog", c.Name)
		}
	}
	sameAnswers(t, pAddr, knotAddr, bindAddr, rlAddr)

	// Add c.test., drop b.test.: a reload of the primary's configuration.
	write("a.test.", "c.test.")
	if err := primary.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitServes(t, primary, "c.test.", true)
	reloaded := time.Now()
	for _, c := range consumers {
		waitServes(t, c, "c.test.", true)
		waitServes(t, c, "b.test.", false)
		waitServes(t, c, "a.test.", true)
		t.Logf("%s followed the catalog change within %v", c.Name, time.Since(reloaded).Round(time.Millisecond))
	}
	for _, c := range consumers {
		q := new(dns.Msg)
		q.SetQuestion("www.c.test.", dns.TypeA)
		r, err := dns.Exchange(q, c.Addrs[0].String())
		if err != nil || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.3" {
			t.Errorf("%s: www.c.test. A: %v %v", c.Name, r, err)
		}
	}
}
