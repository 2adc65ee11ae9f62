package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

const bigOrigin = "big.test."

// bigZone is a flat zone of n A records at serial; records below changed
// (the first changed ones) get other addresses, as an edit would.
func bigZone(n, changed int, serial uint32) string {
	var b strings.Builder
	b.Grow(n * 32)
	fmt.Fprintf(&b, "$ORIGIN %s\n$TTL 300\n@ SOA ns1 hostmaster %d 3600 600 86400 60\n@ NS ns1\nns1 A 192.0.2.1\n", bigOrigin, serial)
	for i := range n {
		last := i % 250
		if i < changed {
			last = 250 + i%5
		}
		fmt.Fprintf(&b, "h%d A 10.%d.%d.%d\n", i, i>>16&255, i>>8&255, last)
	}
	return b.String()
}

// BenchmarkIXFRLargeZone: a zone of ROOTLINE_IXFR_RECORDS records
// (default 1,000,000) is served by Rootline and by Knot (journaled), then
// reloaded with 1,000 records changed; each op is one IXFR from the old
// serial, reporting its bytes and records.
func BenchmarkIXFRLargeZone(b *testing.B) {
	n := 1_000_000
	if v := os.Getenv("ROOTLINE_IXFR_RECORDS"); v != "" {
		n, _ = strconv.Atoi(v)
	}
	const changed = 1000
	v1, v2 := bigZone(n, 0, 1), bigZone(n, changed, 2)
	for _, server := range []string{"rootline", "knot"} {
		b.Run(server, func(b *testing.B) {
			addr := netip.AddrPortFrom(lo, peers.FreePort(b, lo))
			var s *peers.Server
			var file string
			loadStart := time.Now()
			switch server {
			case "rootline":
				dir := b.TempDir()
				file = filepath.Join(dir, "big.zone")
				if err := os.WriteFile(file, []byte(v1), 0o644); err != nil {
					b.Fatal(err)
				}
				s = peers.StartProcess(b, "rootline", dir, []netip.AddrPort{addr}, nil, rootlineBin(b),
					"auth", "--listen", addr.String(), "--zone", bigOrigin+"="+file, "--allow-transfer", "127.0.0.1/32")
			case "knot":
				s, file = knotBig(b, addr, v1)
			}
			// Loading takes seconds: the peers' readiness wait is for
			// small zones.
			for {
				if sr, err := serialAt(addr, bigOrigin); err == nil && sr == 1 {
					break
				}
				if time.Since(loadStart) > 5*time.Minute {
					b.Fatalf("%s never loaded the zone", server)
				}
				time.Sleep(50 * time.Millisecond)
			}
			b.Logf("%s: %d records loaded in %v", server, n, time.Since(loadStart).Round(time.Millisecond))
			if err := os.WriteFile(file, []byte(v2), 0o644); err != nil {
				b.Fatal(err)
			}
			reload := time.Now()
			if err := s.Signal(syscall.SIGHUP); err != nil {
				b.Fatal(err)
			}
			for {
				if sr, err := serialAt(addr, bigOrigin); err == nil && sr == 2 {
					break
				}
				if time.Since(reload) > 5*time.Minute {
					b.Fatalf("%s never reached serial 2", server)
				}
				time.Sleep(50 * time.Millisecond)
			}
			b.Logf("%s: reload with %d changes took %v", server, changed, time.Since(reload).Round(time.Millisecond))
			b.ResetTimer()
			var bytes, records int
			for range b.N {
				m := new(dns.Msg)
				m.SetIxfr(bigOrigin, 1, "ns1."+bigOrigin, "hostmaster."+bigOrigin)
				tr := &dns.Transfer{DialTimeout: time.Minute, ReadTimeout: time.Minute}
				ch, err := tr.In(m, addr.String())
				if err != nil {
					b.Fatal(err)
				}
				bytes, records = 0, 0
				for env := range ch {
					if env.Error != nil {
						b.Fatal(env.Error)
					}
					records += len(env.RR)
					for _, rr := range env.RR {
						bytes += dns.Len(rr)
					}
				}
			}
			b.ReportMetric(float64(bytes), "bytes")
			b.ReportMetric(float64(records), "records")
		})
	}
}

// knotBig starts Knot as journaled primary of the big zone (zone-file
// edits loaded as differences, so it answers IXFR), answering at once.
func knotBig(b *testing.B, addr netip.AddrPort, text string) (*peers.Server, string) {
	b.Helper()
	dir := b.TempDir()
	file := filepath.Join(dir, "big.zone")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		b.Fatal(err)
	}
	return startKnotConf(b, dir, addr, "warning", nil, fmt.Sprintf(`  journal-db-max-size: 4G
acl:
  - id: xfr
    address: 127.0.0.0/8
    action: transfer
template:
  - id: default
    storage: %[1]q
    zonefile-load: difference
    zonefile-sync: -1
    journal-content: changes
    journal-max-usage: 2G
    semantic-checks: off
zone:
  - domain: %[2]s
    file: big.zone
    acl: xfr
`, dir, bigOrigin)), file
}
