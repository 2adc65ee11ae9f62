package service

import (
	"context"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/auth"
	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/validate/validatetest"
	"github.com/rootline-dns/rootline/internal/zone"
)

// signedRoot is a root server on loopback whose zone a test re-signs with
// keys it chooses, to play a key rollover.
type signedRoot struct {
	h    *auth.Handler
	addr netip.AddrPort
	v    dnssec.Validity
}

const rootZoneText = `. 3600 IN SOA a.root. hostmaster.root. 1 3600 600 86400 300
. 3600 IN NS a.root.
a.root. 3600 IN A 127.0.0.1
www.test. 3600 IN A 192.0.2.1
`

func startSignedRoot(t *testing.T, v dnssec.Validity) *signedRoot {
	t.Helper()
	r := &signedRoot{h: auth.NewHandler(nil), v: v}
	srv := server.New(server.Config{Listen: loopback0}, r.h)
	if err := srv.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { shutdown(t, srv) })
	udp, _ := srv.Addrs()
	r.addr = udp[0]
	return r
}

// publish serves the root zone signed by keys (their DNSKEYs published).
func (r *signedRoot) publish(t *testing.T, keys ...*dnssec.Key) {
	t.Helper()
	rrs, err := validatetest.SignZone(".", rootZoneText, keys, r.v)
	if err != nil {
		t.Fatal(err)
	}
	z, err := zone.New(".", rrs)
	if err != nil {
		t.Fatal(err)
	}
	r.h.SetZones([]*zone.Zone{z})
}

func genKey(t *testing.T, ksk bool, now time.Time) *dnssec.Key {
	t.Helper()
	k, err := dnssec.Generate(".", dns.ECDSAP256SHA256, ksk, now)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// revoked is k with the REVOKE bit (RFC 5011 2.1): a new tag, same key.
func revoked(t *testing.T, k *dnssec.Key) *dnssec.Key {
	t.Helper()
	dk := dns.Copy(k.DNSKEY).(*dns.DNSKEY)
	dk.Flags |= dnssec.FlagRevoke
	r, err := dnssec.NewKey(dk, k.Signer, k.Timing)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// askAD sends www.test. A with DO to the resolver.
func askAD(t *testing.T, addr netip.AddrPort) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("www.test.", dns.TypeA)
	m.SetEdns0(1232, true)
	resp, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, addr.String())
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// stateLine matches one key line of the state file.
var stateLine = regexp.MustCompile(`(?m)^\.\s+0\s+IN\s+DNSKEY\s+257 3 13 \S+ ;state=[a-z]+ since=\S+$`)

// states reads the state file as "tag=state" for each key, sorted.
func states(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tps, err := dnssec.ParseTrustPoints(strings.NewReader(string(b)), path)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	var out []string
	for _, tp := range tps {
		for _, k := range tp.Keys {
			out = append(out, tp.Zone+" "+itoa(k.DNSKEY.KeyTag())+"="+k.State.String())
		}
	}
	if n := len(stateLine.FindAllString(string(b), -1)); n != len(out) {
		t.Errorf("state file has %d key lines, want %d:\n%s", n, len(out), b)
	}
	slices.Sort(out)
	return out
}

func itoa(n uint16) string { return strconv.Itoa(int(n)) }

// A whole root KSK rollover by RFC 5011, through the real resolver
// against a loopback root whose DNSKEY set the test changes, on a fake
// clock: the new key waits 30 days in AddPend, becomes Valid, the old one
// revokes itself and is Removed 30 days later; validation works at every
// step, the state file says so, and a restarted resolver trusts what the
// file says rather than its configured (by then stale) DS anchor.
func TestTrustAnchorRollover(t *testing.T) {
	t0 := time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)
	clk := &fakeClock{now: t0}
	root := startSignedRoot(t, dnssec.Validity{Inception: t0.Add(-24 * time.Hour), Expiration: t0.AddDate(1, 0, 0)})
	ksk1, ksk2, zsk := genKey(t, true, t0), genKey(t, true, t0), genKey(t, false, t0)
	root.publish(t, ksk1, zsk)
	ds1, err := ksk1.DS(dns.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(t.TempDir(), "root.state")
	newResolver := func() *Resolver {
		cfg := &config.Resolver{Listen: loopback0, AllowLoopbackUpstream: true, UpstreamPort: root.addr.Port(), TrustAnchorState: state}
		r, err := NewResolver(cfg, ResolverOptions{Now: clk.Now, RootHints: []netip.AddrPort{root.addr}, Anchors: []dns.RR{ds1},
			UpstreamTimeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if err := r.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { shutdown(t, r) })
		return r
	}
	r := newResolver()
	udp, _ := r.Addrs()
	tag1, tag2 := itoa(ksk1.Tag), itoa(ksk2.Tag)

	steps := []struct {
		name    string
		advance time.Duration
		publish []*dnssec.Key
		want    []string
	}{
		{name: "seeded from the DS anchor", want: []string{". " + tag1 + "=valid"}},
		{name: "new KSK published", advance: 2 * time.Hour, publish: []*dnssec.Key{ksk1, ksk2, zsk},
			want: []string{". " + tag1 + "=valid", ". " + tag2 + "=addpend"}},
		{name: "not yet after 29 days", advance: 29 * 24 * time.Hour,
			want: []string{". " + tag1 + "=valid", ". " + tag2 + "=addpend"}},
		{name: "valid after the add hold-down", advance: 2 * 24 * time.Hour,
			want: []string{". " + tag1 + "=valid", ". " + tag2 + "=valid"}},
		{name: "old KSK revokes itself", advance: 2 * time.Hour, publish: []*dnssec.Key{revoked(t, ksk1), ksk2, zsk},
			want: []string{". " + tag1 + "=revoked", ". " + tag2 + "=valid"}},
		{name: "old KSK gone, removed after the hold-down", advance: 31 * 24 * time.Hour, publish: []*dnssec.Key{ksk2, zsk},
			want: []string{". " + tag1 + "=removed", ". " + tag2 + "=valid"}},
	}
	ctx := context.Background()
	for _, st := range steps {
		if st.publish != nil {
			root.publish(t, st.publish...)
		}
		clk.Set(clk.Now().Add(st.advance))
		r.anchors.refreshDue(ctx)
		// Key tags are random: compare as sets, like states' own order.
		want := slices.Sorted(slices.Values(st.want))
		if got := states(t, state); !slices.Equal(got, want) {
			t.Fatalf("%s: state %v, want %v", st.name, got, want)
		}
		if resp := askAD(t, udp[0]); resp.Rcode != dns.RcodeSuccess || !resp.AuthenticatedData || len(resp.Answer) == 0 {
			t.Fatalf("%s: answer not validated: %v", st.name, resp)
		}
	}
	fi, err := os.Stat(state)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode: %v %v", fi, err)
	}

	// Restarted with the same stale DS anchor (KSK1's), the resolver
	// trusts the file: KSK2 alone.
	shutdown(t, r)
	r2 := newResolver()
	udp2, _ := r2.Addrs()
	if resp := askAD(t, udp2[0]); resp.Rcode != dns.RcodeSuccess || !resp.AuthenticatedData {
		t.Fatalf("after restart: %v", resp)
	}
	anc, _ := r2.r.TrustAnchors().Lookup(".")
	if len(anc.DS) != 0 || len(anc.Keys) != 1 || anc.Keys[0].KeyTag() != ksk2.Tag {
		t.Errorf("anchors after restart: %+v", anc)
	}
}

// A state file that does not parse stops the start; a DNSKEY anchor is
// tracked (and the file written) at once, before any fetch.
func TestTrustAnchorStateStart(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.state")
	writeFile(t, bad, ". 0 IN DNSKEY 257 3 13 AAAA\n")
	cfg := &config.Resolver{Listen: loopback0, TrustAnchorState: bad}
	if _, err := NewResolver(cfg, ResolverOptions{}); err == nil || !strings.Contains(err.Error(), "trust-anchor-state") {
		t.Errorf("bad state file: err = %v", err)
	}

	t0 := time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)
	ksk := genKey(t, true, t0)
	state := filepath.Join(dir, "new.state")
	cfg.TrustAnchorState = state
	if _, err := NewResolver(cfg, ResolverOptions{Now: func() time.Time { return t0 }, Anchors: []dns.RR{ksk.DNSKEY}}); err != nil {
		t.Fatal(err)
	}
	if got, want := states(t, state), []string{". " + itoa(ksk.Tag) + "=valid"}; !slices.Equal(got, want) {
		t.Errorf("seeded from a DNSKEY anchor: %v, want %v", got, want)
	}
}
