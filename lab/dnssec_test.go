package lab

import (
	"context"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/internal/zone"
)

// Every zone is signed by its own keys, and each parent holds its child's
// DS except at the insecure delegation: checked on the built zones.
func TestSignedChain(t *testing.T) {
	l := newLab(t, Options{})
	if !l.Signed() || len(l.TrustAnchor()) != 1 || len(l.TrustAnchorKeys()) != 1 {
		t.Fatalf("signed %v, anchor %v, keys %v", l.Signed(), l.TrustAnchor(), l.TrustAnchorKeys())
	}
	now := time.Now()
	insecure := 0
	for _, zs := range l.Signing() {
		sz := l.signed[zs.Zone]
		if zs.Fault != None {
			t.Errorf("%s: fault %v without one asked", zs.Zone, zs.Fault)
		}
		keys := make(map[uint16]*dnssec.Key)
		for _, k := range sz.keys {
			keys[k.Tag] = k
		}
		// Every RRSIG verifies with a key of the zone, now.
		sets := make(map[[2]any][]dns.RR)
		var sigs []*dns.RRSIG
		for _, rr := range sz.records {
			if s, ok := rr.(*dns.RRSIG); ok {
				sigs = append(sigs, s)
				continue
			}
			k := [2]any{rr.Header().Name, rr.Header().Rrtype}
			sets[k] = append(sets[k], rr)
		}
		for _, s := range sigs {
			k := keys[s.KeyTag]
			if k == nil {
				t.Fatalf("%s: RRSIG by unknown key %d", zs.Zone, s.KeyTag)
			}
			if err := dnssec.VerifyRRset(k, s, sets[[2]any{s.Hdr.Name, s.TypeCovered}]); err != nil || !dnssec.ValidAt(s, now) {
				t.Errorf("%s: %s %s: %v", zs.Zone, s.Hdr.Name, dns.TypeToString[s.TypeCovered], err)
			}
		}
		parent, ok := l.h.parentOf(zs.Zone)
		if !ok {
			continue
		}
		var ds []*dns.DS
		for _, rr := range l.signed[parent].records {
			if d, ok := rr.(*dns.DS); ok && d.Hdr.Name == zs.Zone {
				ds = append(ds, d)
			}
		}
		if zs.Policy.Insecure {
			insecure++
			if len(ds) != 0 {
				t.Errorf("%s is insecure, but %s holds DS %v", zs.Zone, parent, ds)
			}
			continue
		}
		if len(ds) != 1 {
			t.Fatalf("%s holds %d DS for %s", parent, len(ds), zs.Zone)
		}
		want, _ := sz.keys[0].DS(dns.SHA256)
		if ds[0].KeyTag != sz.keys[0].Tag || !strings.EqualFold(ds[0].Digest, want.Digest) {
			t.Errorf("%s: DS %v does not match the KSK %d", zs.Zone, ds[0], sz.keys[0].Tag)
		}
	}
	if insecure != 1 {
		t.Errorf("%d insecure delegations, want 1", insecure)
	}
}

// zone check's DNSSEC checker passes every zone of the signed lab, and
// finds each DNSSEC fault where it was put.
func TestSignedZonesCheck(t *testing.T) {
	faults := []FaultSpec{{Bogus, "example.net."}, {Expired, "secure.example.com."}, {DSMismatch, "example.org."}}
	l := newLab(t, Options{Faults: faults})
	now := time.Now()
	zones := make(map[string]*zone.Zone)
	for _, zs := range l.Signing() {
		z, err := zone.New(zs.Zone, l.signed[zs.Zone].records)
		if err != nil {
			t.Fatal(err)
		}
		zones[zs.Zone] = z
		findings := zone.CheckDNSSEC(z, now)
		broken := zs.Zone == "example.net." || zs.Zone == "secure.example.com."
		if (len(findings) > 0) != broken {
			t.Errorf("%s: %d findings (%v), want some: %v", zs.Zone, len(findings), findings, broken)
		}
	}
	for _, child := range []string{"example.org.", "example.com."} {
		ds := zones[mustParent(t, l, child)].Node(child).Get(dns.TypeDS)
		if child == "example.org." {
			// The insecure delegation has no DS at all: DSMismatch there
			// changes nothing a parent publishes.
			if len(ds) != 0 {
				t.Errorf("DS for insecure %s: %v", child, ds)
			}
			continue
		}
		if f := zone.CheckDS(ds, zones[child]); len(f) != 0 || len(ds) == 0 {
			t.Errorf("%s: DS %v: %v", child, ds, f)
		}
	}
	l = newLab(t, Options{Faults: []FaultSpec{{DSMismatch, "example.com."}}})
	com, _ := zone.New("com.", l.signed["com."].records)
	ex, _ := zone.New("example.com.", l.signed["example.com."].records)
	if f := zone.CheckDS(com.Node("example.com.").Get(dns.TypeDS), ex); len(f) != 1 {
		t.Errorf("dsmismatch: CheckDS = %v, want one finding", f)
	}
}

func mustParent(t *testing.T, l *Lab, origin string) string {
	t.Helper()
	p, ok := l.h.parentOf(origin)
	if !ok {
		t.Fatalf("no parent of %s", origin)
	}
	return p
}

func TestParseZoneFaultSpec(t *testing.T) {
	for in, want := range map[string]FaultSpec{
		"bogus":                    {Bogus, "example.net."},
		"expired":                  {Expired, "secure.example.com."},
		"DSMismatch":               {DSMismatch, "113.0.203.in-addr.arpa."},
		"expired=example.com":      {Expired, "example.com"},
		"dsmismatch = example.org": {DSMismatch, "example.org"},
	} {
		got, err := ParseFaultSpec(in)
		if err != nil || got != want || !got.Fault.ZoneFault() {
			t.Errorf("ParseFaultSpec(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if Lame.ZoneFault() || Down.ZoneFault() {
		t.Error("server faults reported as zone faults")
	}
}

func TestZoneFaultErrors(t *testing.T) {
	for _, opt := range []Options{
		{Faults: []FaultSpec{{Bogus, "nowhere.example."}}},
		{Faults: []FaultSpec{{Expired, "example.com."}}, Unsigned: true},
	} {
		if _, err := New(opt); err == nil {
			t.Errorf("New(%v) succeeded", opt.Faults)
		}
	}
	l := newLab(t, Options{})
	if err := l.SetFault("example.com", Bogus); err == nil {
		t.Error("SetFault(bogus) on a built lab succeeded")
	}
}

// A validating peer proves the chain of trust: Unbound, given only the
// lab's root hints and trust anchor, validates signed zones (AD), treats
// the insecure delegation as insecure (no AD), and fails each zone broken
// by a DNSSEC fault with SERVFAIL and the Extended DNS Error that names
// the reason, while the rest of the lab still validates.
func TestUnboundValidatesLab(t *testing.T) {
	peers.Need(t, "unbound")
	type query struct {
		name  string
		qtype uint16
		rcode int
		ad    bool
		ede   int // expected EDE info code, -1 for none expected
	}
	healthy := []query{
		{"www.example.com.", dns.TypeA, dns.RcodeSuccess, true, -1},
		{"nothing.example.com.", dns.TypeA, dns.RcodeNameError, true, -1},
		{"www.example.net.", dns.TypeA, dns.RcodeSuccess, true, -1},
		{"nothing.example.net.", dns.TypeA, dns.RcodeNameError, true, -1},
		{"www.secure.example.com.", dns.TypeA, dns.RcodeSuccess, true, -1},
		{"bob.users.example.com.", dns.TypeTXT, dns.RcodeSuccess, true, -1},
		{"10.113.0.203.in-addr.arpa.", dns.TypePTR, dns.RcodeSuccess, true, -1},
		{"nothing.com.", dns.TypeA, dns.RcodeNameError, true, -1},
		{"example.org.", dns.TypeTXT, dns.RcodeSuccess, false, -1},
	}
	tests := []struct {
		fault   Fault
		queries []query
	}{
		{None, healthy},
		{Bogus, []query{{"www.example.net.", dns.TypeA, dns.RcodeServerFailure, false, int(dns.ExtendedErrorCodeDNSBogus)}, healthy[0]}},
		{Expired, []query{{"www.secure.example.com.", dns.TypeA, dns.RcodeServerFailure, false, int(dns.ExtendedErrorCodeSignatureExpired)}, healthy[0]}},
		{DSMismatch, []query{{"10.113.0.203.in-addr.arpa.", dns.TypePTR, dns.RcodeServerFailure, false, int(dns.ExtendedErrorCodeDNSKEYMissing)}, healthy[0]}},
	}
	if os.Geteuid() != 0 {
		// Root hints carry no port: Unbound asks every server on port 53.
		if os.Getenv("CI") == "true" {
			t.Fatal("this test runs the lab on port 53 and needs root in CI")
		}
		t.Skip("!!! SKIPPING: the lab must listen on port 53 for Unbound, which needs root")
	}
	for i, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			// Port 53 on addresses of its own, apart from other tests' labs.
			opt := Options{NoResolver: true, Port: 53, ListenBase: netip.AddrFrom4([4]byte{127, 77, byte(i), 0})}
			if tt.fault != None {
				opt.Faults = []FaultSpec{{tt.fault, DefaultTarget(tt.fault)}}
			}
			l := startLab(t, opt)
			u := peers.StartUnbound(t, peers.UnboundConfig{
				Listen:      netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 0),
				RootHints:   rrText(l.RootHints()),
				TrustAnchor: string(l.AnchorZoneFile()),
			})
			for _, q := range tt.queries {
				m := new(dns.Msg)
				m.SetQuestion(q.name, q.qtype)
				m.AuthenticatedData = true
				m.SetEdns0(1232, false)
				c := &dns.Client{Timeout: 5 * time.Second}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				r, _, err := c.ExchangeContext(ctx, m, u.Addrs[0].String())
				cancel()
				if err != nil {
					t.Fatalf("%s: %v\n%s", q.name, err, u.LogTail())
				}
				ede := -1
				if o := r.IsEdns0(); o != nil {
					for _, opt := range o.Option {
						if e, ok := opt.(*dns.EDNS0_EDE); ok {
							ede = int(e.InfoCode)
						}
					}
				}
				if r.Rcode != q.rcode || r.AuthenticatedData != q.ad || (q.ede >= 0 && ede != q.ede) {
					t.Errorf("%s %s: rcode %s ad %v ede %d; want %s ad %v ede %d\n%s\n%s", q.name, dns.TypeToString[q.qtype],
						dns.RcodeToString[r.Rcode], r.AuthenticatedData, ede, dns.RcodeToString[q.rcode], q.ad, q.ede, r, u.LogTail())
				}
			}
		})
	}
}

func rrText(rrs []dns.RR) string {
	var b strings.Builder
	for _, rr := range rrs {
		b.WriteString(rr.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// Each signed zone, as --dump writes it, passes ldns-verify-zone (an
// independent implementation of signature and NSEC/NSEC3 chain checks);
// a zone signed with the Bogus fault does not.
func TestSignedZonesVerifyWithLdns(t *testing.T) {
	bin := needTool(t, "ldns-verify-zone")
	l := newLab(t, Options{Faults: []FaultSpec{{Bogus, "example.net."}}})
	files, err := l.DNSSECFiles()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	checked := 0
	for _, f := range files {
		if !strings.HasPrefix(f.Name, SignedDir+"/") {
			continue
		}
		p := filepath.Join(dir, filepath.Base(f.Name))
		if err := os.WriteFile(p, f.Data, 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, p).CombinedOutput()
		broken := filepath.Base(f.Name) == "example.net.zone"
		if (err != nil) != broken {
			t.Errorf("%s: ldns-verify-zone: %v (want failure: %v)\n%s", f.Name, err, broken, out)
		}
		checked++
	}
	if checked != len(l.h.origins) {
		t.Errorf("checked %d zones, want %d", checked, len(l.h.origins))
	}
}
