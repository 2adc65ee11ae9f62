package e2e

import (
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

// bindUpdatable starts BIND (named) as primary of the update test zone,
// taking updates signed with the test key (its journal: up.test.zone.jnl).
func bindUpdatable(t testing.TB, listen netip.AddrPort) *peers.Server {
	t.Helper()
	bin := peers.Need(t, "named")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "up.test.zone"), []byte(updZone), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf(`key %[4]q { algorithm hmac-sha256; secret %[5]q; };
options {
	directory %[1]q;
	pid-file "named.pid";
	session-keyfile "session.key";
	managed-keys-directory %[1]q;
	listen-on port %[3]d { %[2]s; };
	listen-on-v6 { none; };
	recursion no;
	dnssec-validation no;
	notify no;
};
controls { };
zone %[6]q { type primary; file "up.test.zone"; allow-update { key %[4]q; }; };
`, dir, listen.Addr(), listen.Port(), updKey, updSecret, updOrigin)
	path := filepath.Join(dir, "named.conf")
	if err := os.WriteFile(path, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	return peers.StartProcess(t, "named", dir, []netip.AddrPort{listen}, []string{updOrigin}, bin, "-g", "-c", path)
}

// BenchmarkUpdateThroughput sends signed updates one after another (each
// adds one record; the next is sent when the last is acknowledged) to
// Rootline (journal synced per update, --data-dir), Knot and BIND, and
// reports acknowledged changes per second.
func BenchmarkUpdateThroughput(b *testing.B) {
	for _, server := range []string{"rootline", "knot", "bind"} {
		b.Run(server, func(b *testing.B) {
			addr := netip.AddrPortFrom(lo, peers.FreePort(b, lo))
			switch server {
			case "rootline":
				dir := b.TempDir()
				file := filepath.Join(dir, "up.test.zone")
				if err := os.WriteFile(file, []byte(updZone), 0o644); err != nil {
					b.Fatal(err)
				}
				peers.StartProcess(b, "rootline", dir, []netip.AddrPort{addr}, []string{updOrigin}, rootlineBin(b),
					"auth", "--listen", addr.String(), "--zone", updOrigin+"="+file, "--key", "hmac-sha256:"+updKey+":"+updSecret,
					"--allow-update", "key:"+updKey, "--data-dir", filepath.Join(dir, "state"))
			case "knot":
				knotUpdatableTB(b, addr)
			case "bind":
				bindUpdatable(b, addr)
			}
			c := &dns.Client{Timeout: 5 * time.Second, TsigSecret: map[string]string{updKey + ".": updSecret}}
			b.ResetTimer()
			start := time.Now()
			for i := range b.N {
				m := new(dns.Msg)
				m.SetUpdate(updOrigin)
				m.Ns = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: fmt.Sprintf("h%d.up.test.", i), Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300},
					A: netip.AddrFrom4([4]byte{192, 0, 2, byte(i%250 + 1)}).AsSlice()}}
				m.SetTsig(updKey+".", dns.HmacSHA256, 300, time.Now().Unix())
				r, _, err := c.Exchange(m, addr.String())
				if err != nil || r.Rcode != dns.RcodeSuccess {
					b.Fatalf("update %d: %v %v", i, r, err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "changes/s")
		})
	}
}
