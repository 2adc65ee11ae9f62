package service

import (
	"bytes"
	"context"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/signer"
)

// fakeClock is the service's clock in tests: it moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// writeKeys makes a KSK and a ZSK for origin in dir.
func writeKeys(t *testing.T, dir, origin string) {
	t.Helper()
	for _, ksk := range []bool{true, false} {
		k, err := dnssec.Generate(origin, dns.ECDSAP256SHA256, ksk, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		priv, err := k.MarshalPrivate()
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, filepath.Join(dir, k.BaseName()+".private"), string(priv))
		writeFile(t, filepath.Join(dir, k.BaseName()+".key"), string(k.MarshalPublic()))
	}
}

// lockedBuffer is a log sink written by the service's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}
func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

func queryDO(t *testing.T, addr netip.AddrPort, name string, qtype uint16) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, true)
	c := dns.Client{Net: "tcp", Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, addr.String())
	if err != nil {
		t.Fatalf("%s %s: %v", name, dns.Type(qtype), err)
	}
	return r
}

func hasRRSIG(rrs []dns.RR, covered uint16) bool {
	for _, rr := range rrs {
		if s, ok := rr.(*dns.RRSIG); ok && s.TypeCovered == covered {
			return true
		}
	}
	return false
}

// ixfr asks addr for the changes since serial and returns the records.
func ixfr(t *testing.T, addr netip.AddrPort, origin string, serial uint32) []dns.RR {
	t.Helper()
	m := new(dns.Msg)
	m.SetIxfr(origin, serial, "ns."+origin, "h."+origin)
	tr := &dns.Transfer{DialTimeout: 5 * time.Second, ReadTimeout: 5 * time.Second}
	ch, err := tr.In(m, addr.String())
	if err != nil {
		t.Fatal(err)
	}
	var rrs []dns.RR
	for env := range ch {
		if env.Error != nil {
			t.Fatal(env.Error)
		}
		rrs = append(rrs, env.RR...)
	}
	return rrs
}

// A zone signed by the server: signed on load, served with RRSIGs to DO
// queries; a refresh by a later clock moves the serial and IXFR from the
// old serial carries the new signatures; reloads of an unchanged file keep
// the version, changed files get the next serial, and bad keys on reload
// keep the signed version.
func TestAuthSignsZones(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	if err := os.Mkdir(keys, 0o755); err != nil {
		t.Fatal(err)
	}
	writeKeys(t, keys, "s.test.")
	file := filepath.Join(dir, "s.zone")
	writeFile(t, file, soaZone("s.test.", 10)+"www 300 IN A 192.0.2.80\n")
	cfg := func() *config.Auth {
		return &config.Auth{
			Listen:        loopback0,
			AllowTransfer: config.ACL{{Prefix: netip.MustParsePrefix("127.0.0.1/32")}},
			Zones:         []config.AuthZone{{Origin: "s.test", File: file, Sign: config.AuthSign{Keys: keys}}},
		}
	}
	clock := &fakeClock{now: time.Now().Truncate(time.Second)}
	logs := &lockedBuffer{}
	a, err := NewAuth(cfg(), AuthOptions{Now: clock.Now, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := a.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, a)
	_, tcp := a.Addrs()
	addr := tcp[0]

	r := queryDO(t, addr, "www.s.test.", dns.TypeA)
	if !r.Authoritative || !hasRRSIG(r.Answer, dns.TypeA) {
		t.Fatalf("DO answer without RRSIG:\n%v", r)
	}
	r = queryDO(t, addr, "nope.s.test.", dns.TypeA)
	if r.Rcode != dns.RcodeNameError || !hasRRSIG(r.Ns, dns.TypeNSEC) {
		t.Fatalf("NXDOMAIN without a signed NSEC proof:\n%v", r)
	}
	if got := serialAt(t, addr, "s.test."); got != 10 {
		t.Fatalf("first serial %d, want the file's 10", got)
	}
	oldSigs := queryDO(t, addr, "www.s.test.", dns.TypeA).Answer

	// Not due yet: a refresh does nothing.
	if n := a.RefreshSignatures(); n != 0 {
		t.Fatalf("refresh before due re-signed %d zones", n)
	}
	// Past the refresh time: re-signed, serial 11, new signatures.
	exp := time.Unix(int64(rrsigOf(t, oldSigs).Expiration), 0)
	clock.Set(signer.RefreshAt(exp, config.DefaultSignRefresh).Add(time.Second))
	a.RefreshSignatures() // the timer may have been first; either way one refresh
	if got := serialAt(t, addr, "s.test."); got != 11 {
		t.Fatalf("serial after refresh %d, want 11", got)
	}
	newSig := rrsigOf(t, queryDO(t, addr, "www.s.test.", dns.TypeA).Answer)
	if newSig.Expiration <= rrsigOf(t, oldSigs).Expiration {
		t.Fatalf("refresh did not extend the signatures: %d <= %d", newSig.Expiration, rrsigOf(t, oldSigs).Expiration)
	}

	// IXFR from 10: one diff, old signatures out, new ones in (RFC 1995).
	rrs := ixfr(t, addr, "s.test.", 10)
	var soas []uint32
	var deletedSigs, addedSigs int
	part := 0
	for _, rr := range rrs {
		if soa, ok := rr.(*dns.SOA); ok {
			soas = append(soas, soa.Serial)
			part++
			continue
		}
		if _, ok := rr.(*dns.RRSIG); ok {
			if part == 2 {
				deletedSigs++
			} else if part == 3 {
				addedSigs++
			}
		}
	}
	if len(soas) != 4 || soas[0] != 11 || soas[1] != 10 || soas[2] != 11 || soas[3] != 11 {
		t.Fatalf("IXFR from 10: SOA serials %v, want [11 10 11 11]", soas)
	}
	if deletedSigs == 0 || deletedSigs != addedSigs {
		t.Fatalf("IXFR from 10: %d signatures deleted, %d added", deletedSigs, addedSigs)
	}

	// Reload, file unchanged: same version.
	if err := a.Reload(ctx, cfg()); err != nil {
		t.Fatal(err)
	}
	if got := serialAt(t, addr, "s.test."); got != 11 {
		t.Fatalf("serial after an unchanged reload %d, want 11", got)
	}
	// Reload, content changed but the file's serial not: 12.
	writeFile(t, file, soaZone("s.test.", 10)+"www 300 IN A 192.0.2.81\n")
	if err := a.Reload(ctx, cfg()); err != nil {
		t.Fatal(err)
	}
	if got := serialAt(t, addr, "s.test."); got != 12 {
		t.Fatalf("serial after a changed reload %d, want 12", got)
	}
	// Reload with a broken key: the signed version stays, the error is logged.
	var priv string
	ents, _ := os.ReadDir(keys)
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".private") {
			priv = filepath.Join(keys, e.Name())
		}
	}
	writeFile(t, priv, "Private-key-format: v1.3\nAlgorithm: 13 (ECDSAP256SHA256)\nPrivateKey: ###\n")
	writeFile(t, file, soaZone("s.test.", 10)+"www 300 IN A 192.0.2.82\n")
	if err := a.Reload(ctx, cfg()); err != nil {
		t.Fatal(err)
	}
	if got := serialAt(t, addr, "s.test."); got != 12 {
		t.Fatalf("serial after a reload with a broken key %d, want 12", got)
	}
	if r := queryDO(t, addr, "www.s.test.", dns.TypeA); len(r.Answer) == 0 || r.Answer[0].(*dns.A).A.String() != "192.0.2.81" || !hasRRSIG(r.Answer, dns.TypeA) {
		t.Fatalf("after a reload with a broken key:\n%v", r)
	}
	if l := logs.String(); !strings.Contains(l, "zone keys not reloaded") || !strings.Contains(l, priv+":3: PrivateKey") {
		t.Fatalf("no error naming the key file and line:\n%s", l)
	}

	// At start, the same broken key stops the service.
	if _, err := NewAuth(cfg(), AuthOptions{}); err == nil || !strings.Contains(err.Error(), priv+":3: PrivateKey") {
		t.Fatalf("NewAuth with a broken key: %v", err)
	}
}

func rrsigOf(t *testing.T, rrs []dns.RR) *dns.RRSIG {
	t.Helper()
	for _, rr := range rrs {
		if s, ok := rr.(*dns.RRSIG); ok {
			return s
		}
	}
	t.Fatal("no RRSIG")
	return nil
}

// Bad signing input at start: every case fails with an error naming the
// cause, and nothing is served half-signed.
func TestAuthSignBadKeysAtStart(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "s.zone")
	writeFile(t, file, soaZone("s.test.", 1))
	other := filepath.Join(dir, "other")
	os.Mkdir(other, 0o755)
	writeKeys(t, other, "other.test.")
	tests := []struct {
		name, keys, want string
	}{
		{"missing folder", filepath.Join(dir, "nope"), "zone s.test.: keys " + filepath.Join(dir, "nope") + ": "},
		{"keys of another zone only", other, "no keys for s.test."},
	}
	for _, tc := range tests {
		cfg := &config.Auth{Listen: loopback0, Zones: []config.AuthZone{{Origin: "s.test", File: file, Sign: config.AuthSign{Keys: tc.keys}}}}
		if _, err := NewAuth(cfg, AuthOptions{}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

// A zone that came signed with a broken chain and expired signatures is
// served as it is (NSD and Knot serve it), with warnings; queries that
// need the missing proof do not crash the server.
func TestAuthServesBrokenSignedZone(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys")
	os.Mkdir(keys, 0o755)
	writeKeys(t, keys, "b.test.")
	ks, err := dnssec.ReadKeys(os.DirFS(keys), keys, "b.test.")
	if err != nil {
		t.Fatal(err)
	}
	unsigned := filepath.Join(dir, "u.zone")
	writeFile(t, unsigned, soaZone("b.test.", 1)+"a 300 IN A 192.0.2.1\nm 300 IN A 192.0.2.2\nz 300 IN A 192.0.2.3\n")
	zs, _ := loadZones(context.Background(), slog.New(slog.DiscardHandler), &config.Auth{Zones: []config.AuthZone{{Origin: "b.test", File: unsigned}}}, nil)
	past := time.Now().Add(-30 * 24 * time.Hour)
	v, _, err := signer.Sign(zs[0], ks, signer.Policy{Validity: 48 * time.Hour, Refresh: 24 * time.Hour, Workers: 1}, nil, past)
	if err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	for _, name := range v.Zone.Names() {
		for _, set := range v.Zone.Node(name).Sets {
			for _, rr := range set.RRs {
				if name == "m.b.test." && rr.Header().Rrtype == dns.TypeNSEC {
					continue // break the chain
				}
				text.WriteString(rr.String() + "\n")
			}
		}
	}
	signed := filepath.Join(dir, "b.zone")
	writeFile(t, signed, text.String())
	logs := &lockedBuffer{}
	a, err := NewAuth(&config.Auth{Listen: loopback0, Zones: []config.AuthZone{{Origin: "b.test", File: signed}}},
		AuthOptions{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer shutdown(t, a)
	if l := logs.String(); !strings.Contains(l, "signatures expired") || !strings.Contains(l, "NSEC chain broken") {
		t.Errorf("no warnings:\n%s", l)
	}
	_, tcp := a.Addrs()
	for _, name := range []string{"a.b.test.", "m.b.test.", "n.b.test.", "zz.b.test.", "b.test."} {
		for _, qt := range []uint16{dns.TypeA, dns.TypeNSEC, dns.TypeTXT, dns.TypeDS} {
			queryDO(t, tcp[0], name, qt)
		}
	}
	if r := queryDO(t, tcp[0], "a.b.test.", dns.TypeA); !hasRRSIG(r.Answer, dns.TypeA) {
		t.Errorf("served without its (expired) signatures:\n%v", r)
	}
}
