package e2e

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

// Replication tests: rootline as primary of NSD and Knot, and as their
// secondary, with dig and kdig transferring from us.

const (
	xfrOrigin = "repl.test."
	// xfrWait bounds the wait for a NOTIFY-driven transfer to show up on
	// a server: NOTIFY, SOA check and IXFR take milliseconds on loopback;
	// 15 s leaves room for a loaded CI machine.
	xfrWait = 15 * time.Second
	// xfrTXT is the number of bulk TXT records in the test zone: ~100
	// bytes each, so an AXFR needs several 64 KiB messages.
	xfrTXT = 1500
)

// xfrZone returns the test zone at serial; versions differ in a few
// records (added, deleted, TTL changed) as real edits do.
func xfrZone(serial uint32) string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN %s\n$TTL 300\n@ IN SOA ns1 hostmaster %d 3600 600 86400 60\n@ IN NS ns1\n@ IN NS ns2.other.test.\nns1 IN A 192.0.2.1\n", xfrOrigin, serial)
	fmt.Fprintf(&b, "www %d IN A 192.0.2.10\n", 300+serial)
	fmt.Fprintf(&b, "v%d IN AAAA 2001:db8::%d\n", serial, serial)
	if serial%2 == 1 {
		b.WriteString("odd IN TXT \"only in odd versions\"\n")
	}
	b.WriteString("sub IN NS ns.sub\nns.sub IN A 192.0.2.53\n*.wild IN MX 10 mail\nmail IN A 192.0.2.25\n")
	for i := range xfrTXT {
		fmt.Fprintf(&b, "bulk%d IN TXT \"%s\"\n", i, strings.Repeat(string(rune('a'+i%26)), 80))
	}
	return b.String()
}

// zoneSet is a zone as a sorted list of normalised record lines, the SOA
// once.
func zoneSet(t *testing.T, rrs []dns.RR) []string {
	t.Helper()
	var out []string
	seenSOA := false
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeSOA {
			if seenSOA {
				continue
			}
			seenSOA = true
		}
		out = append(out, normRR(rr))
	}
	slices.Sort(out)
	return out
}

func normRR(rr dns.RR) string {
	s := strings.ReplaceAll(rr.String(), "\t", " ")
	return strings.ToLower(s)
}

// textSet parses zone text into a record set.
func textSet(t *testing.T, text string) []string {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(text), xfrOrigin, "")
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatal(err)
	}
	return zoneSet(t, rrs)
}

// axfr transfers the zone from addr with miekg/dns's client.
func axfr(t *testing.T, addr netip.AddrPort) []dns.RR {
	t.Helper()
	return axfrOf(t, addr, xfrOrigin)
}

// axfrOf transfers origin from addr.
func axfrOf(t *testing.T, addr netip.AddrPort, origin string) []dns.RR {
	t.Helper()
	tr := &dns.Transfer{DialTimeout: xfrWait, ReadTimeout: xfrWait}
	q := new(dns.Msg)
	q.SetAxfr(origin)
	ch, err := tr.In(q, addr.String())
	if err != nil {
		t.Fatalf("AXFR from %s: %v", addr, err)
	}
	var rrs []dns.RR
	for env := range ch {
		if env.Error != nil {
			t.Fatalf("AXFR from %s: %v", addr, env.Error)
		}
		rrs = append(rrs, env.RR...)
	}
	return rrs
}

// clientXfr runs dig or kdig and returns the records it printed.
func clientXfr(t *testing.T, bin string, args ...string) ([]dns.RR, string) {
	t.Helper()
	out, err := exec.Command(bin, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", bin, args, err, out)
	}
	var rrs []dns.RR
	for _, l := range strings.Split(string(out), "\n") {
		if l == "" || strings.HasPrefix(l, ";") {
			continue
		}
		rr, err := dns.NewRR(l)
		if err != nil || rr == nil {
			continue
		}
		rrs = append(rrs, rr)
	}
	return rrs, string(out)
}

func serialAt(addr netip.AddrPort, origin string) (uint32, error) {
	q := new(dns.Msg)
	q.SetQuestion(origin, dns.TypeSOA)
	c := dns.Client{Timeout: time.Second}
	r, _, err := c.Exchange(q, addr.String())
	if err != nil {
		return 0, err
	}
	for _, rr := range r.Answer {
		if soa, ok := rr.(*dns.SOA); ok {
			return soa.Serial, nil
		}
	}
	return 0, fmt.Errorf("no SOA (rcode %s)", dns.RcodeToString[r.Rcode])
}

// waitSerial polls s until it serves serial, bounded by xfrWait.
func waitSerial(t *testing.T, s *peers.Server, serial uint32) {
	t.Helper()
	waitSerialOf(t, s, xfrOrigin, serial)
}

// waitSerialOf polls s until it serves origin at serial.
func waitSerialOf(t *testing.T, s *peers.Server, origin string, serial uint32) {
	t.Helper()
	deadline := time.Now().Add(xfrWait)
	var last string
	for time.Now().Before(deadline) {
		got, err := serialAt(s.Addrs[0], origin)
		if err == nil && got == serial {
			return
		}
		last = fmt.Sprint(got, err)
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s still not at serial %d of %s after %v (last: %s)\n%s", s.Name, serial, origin, xfrWait, last, s.LogTail())
}

func sameSet(t *testing.T, what string, want, got []string) {
	t.Helper()
	if !slices.Equal(want, got) {
		t.Fatalf("%s: %d records, want %d\n%s", what, len(got), len(want), lineDiff(strings.Join(want, "\n"), strings.Join(got, "\n")))
	}
}

var lo = netip.MustParseAddr("127.0.0.1")

func freeAddr(t *testing.T) netip.AddrPort {
	return netip.AddrPortFrom(lo, peers.FreePort(t, lo))
}

func readLog(t *testing.T, s *peers.Server) string {
	b, err := os.ReadFile(filepath.Join(s.Dir, s.Name+".stderr"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Rootline as primary: NSD and Knot transfer the zone from us (AXFR), and
// after a reload they pick up the new serial by NOTIFY and IXFR from our
// journal. dig and kdig transfer too; a client outside --allow-transfer
// is refused.
func TestXfrRootlinePrimary(t *testing.T) {
	bin := rootlineBin(t)
	dig := peers.Need(t, "dig")
	kdig := peers.Need(t, "kdig")
	dir := t.TempDir()
	file := filepath.Join(dir, "repl.zone")
	if err := os.WriteFile(file, []byte(xfrZone(1)), 0o644); err != nil {
		t.Fatal(err)
	}
	rlAddr, nsdAddr, knotAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	rl := peers.StartProcess(t, "rootline", dir, []netip.AddrPort{rlAddr}, []string{xfrOrigin}, bin,
		"auth", "--listen", rlAddr.String(), "--zone", xfrOrigin+"="+file,
		"--allow-transfer", "127.0.0.1/32", "--notify", nsdAddr.String(), "--notify", knotAddr.String())
	secondary := []peers.XfrZone{{Zone: peers.Zone{Origin: xfrOrigin}, Primary: rlAddr}}
	nsd := peers.StartNSDXfr(t, []netip.AddrPort{nsdAddr}, secondary)
	knot := peers.StartKnotXfr(t, []netip.AddrPort{knotAddr}, secondary)

	check := func(serial uint32) {
		t.Helper()
		want := textSet(t, xfrZone(serial))
		sameSet(t, "rootline AXFR", want, zoneSet(t, axfr(t, rlAddr)))
		sameSet(t, "NSD (our secondary) AXFR", want, zoneSet(t, axfr(t, nsdAddr)))
		sameSet(t, "Knot (our secondary) AXFR", want, zoneSet(t, axfr(t, knotAddr)))
		rrs, out := clientXfr(t, dig, "-p", fmt.Sprint(rlAddr.Port()), "@"+rlAddr.Addr().String(), xfrOrigin, "AXFR", "+nocomments")
		sameSet(t, "dig AXFR", want, zoneSet(t, rrs))
		if !strings.Contains(out, "messages ") || strings.Contains(out, "messages 1,") {
			t.Errorf("dig AXFR: want several messages for %d records:\n%s", len(want), out[max(0, len(out)-300):])
		}
		rrs, _ = clientXfr(t, kdig, "-p", fmt.Sprint(rlAddr.Port()), "@"+rlAddr.Addr().String(), xfrOrigin, "AXFR")
		sameSet(t, "kdig AXFR", want, zoneSet(t, rrs))
		sameAnswers(t, rlAddr, nsdAddr, knotAddr)
	}
	check(1)

	// Refused from a client outside --allow-transfer (RFC 5936 5.1).
	_, out := clientXfr(t, dig, "-b", "127.0.0.2", "-p", fmt.Sprint(rlAddr.Port()), "@"+rlAddr.Addr().String(), xfrOrigin, "AXFR")
	if !strings.Contains(out, "Transfer failed") {
		t.Errorf("AXFR from 127.0.0.2 was not refused:\n%s", out)
	}
	m := new(dns.Msg)
	m.SetAxfr(xfrOrigin)
	if r, err := exchangeFrom(m, "127.0.0.2", rlAddr); err != nil || r.Rcode != dns.RcodeRefused {
		t.Errorf("AXFR from 127.0.0.2: %v %v, want REFUSED", r, err)
	}

	for serial := uint32(2); serial <= 3; serial++ {
		if err := os.WriteFile(file, []byte(xfrZone(serial)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := rl.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitSerial(t, rl, serial)
		waitSerial(t, nsd, serial)
		waitSerial(t, knot, serial)
		check(serial)
	}
	// Both secondaries came for the changes by IXFR, answered from the
	// journal (not by falling back to the whole zone).
	for _, l := range strings.Split(readLog(t, rl), "\n") {
		if strings.Contains(l, "msg=transfer") || strings.Contains(l, "notify") {
			t.Log(l)
		}
	}
	if n := strings.Count(readLog(t, rl), "kind=IXFR "); n < 4 {
		t.Errorf("%d incremental transfers logged, want 4 (NSD and Knot, two reloads):\n%s", n, rl.LogTail())
	}
	// kdig IXFR from serial 1: the two diffs in sequence (RFC 1995 4).
	rrs, out := clientXfr(t, kdig, "-p", fmt.Sprint(rlAddr.Port()), "@"+rlAddr.Addr().String(), xfrOrigin, "IXFR=1")
	var soas []uint32
	for _, rr := range rrs {
		if soa, ok := rr.(*dns.SOA); ok {
			soas = append(soas, soa.Serial)
		}
	}
	if !slices.Equal(soas, []uint32{3, 1, 2, 2, 3, 3}) {
		t.Errorf("kdig IXFR=1: SOA serials %v, want [3 1 2 2 3 3]\n%s", soas, out)
	}
	// IXFR from the current serial: the SOA alone.
	rrs, out = clientXfr(t, kdig, "-p", fmt.Sprint(rlAddr.Port()), "@"+rlAddr.Addr().String(), xfrOrigin, "IXFR=3")
	if len(rrs) != 1 {
		t.Errorf("kdig IXFR=3: %d records, want the SOA alone\n%s", len(rrs), out)
	}
}

// sameAnswers asks every server the same questions and fails when an
// answer differs from the first server's.
func sameAnswers(t *testing.T, addrs ...netip.AddrPort) {
	t.Helper()
	for _, q := range []struct {
		name string
		t    uint16
	}{{"www." + xfrOrigin, dns.TypeA}, {"x.wild." + xfrOrigin, dns.TypeMX}, {"odd." + xfrOrigin, dns.TypeTXT},
		{"nope." + xfrOrigin, dns.TypeA}, {"a.sub." + xfrOrigin, dns.TypeA}, {"bulk7." + xfrOrigin, dns.TypeTXT}} {
		m := new(dns.Msg)
		m.SetQuestion(q.name, q.t)
		var ref string
		for i, a := range addrs {
			r, err := dns.Exchange(m, a.String())
			if err != nil {
				t.Fatalf("%s %s at %s: %v", q.name, dns.Type(q.t), a, err)
			}
			got := fmt.Sprint(dns.RcodeToString[r.Rcode], r.Authoritative, zoneSet(t, r.Answer), zoneSet(t, r.Ns))
			if i == 0 {
				ref = got
			} else if got != ref {
				t.Errorf("%s %s: %s answers\n%s\n%s answers\n%s", q.name, dns.Type(q.t), a, got, addrs[0], ref)
			}
		}
	}
}

// exchangeFrom sends m over TCP from the local address src.
func exchangeFrom(m *dns.Msg, src string, to netip.AddrPort) (*dns.Msg, error) {
	c := dns.Client{Net: "tcp", Timeout: xfrWait}
	c.Dialer = newDialer(src)
	r, _, err := c.Exchange(m, to.String())
	return r, err
}

func newDialer(src string) *net.Dialer {
	return &net.Dialer{Timeout: xfrWait, LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}}
}

// Rootline as secondary of NSD and of Knot: AXFR at start, then a
// NOTIFY-driven update, and the data we serve equals the primary's.
func TestXfrRootlineSecondary(t *testing.T) {
	bin := rootlineBin(t)
	for _, peer := range []string{"nsd", "knot"} {
		t.Run(peer, func(t *testing.T) {
			rlAddr, pAddr := freeAddr(t), freeAddr(t)
			zs := []peers.XfrZone{{Zone: peers.Zone{Origin: xfrOrigin, Text: xfrZone(1)}, Notify: []netip.AddrPort{rlAddr}}}
			var p *peers.Server
			if peer == "nsd" {
				p = peers.StartNSDXfr(t, []netip.AddrPort{pAddr}, zs)
			} else {
				p = peers.StartKnotXfr(t, []netip.AddrPort{pAddr}, zs)
			}
			rl := peers.StartProcess(t, "rootline", "", []netip.AddrPort{rlAddr}, []string{xfrOrigin}, bin,
				"auth", "--listen", rlAddr.String(), "--secondary", xfrOrigin+"="+pAddr.String(), "--allow-transfer", "127.0.0.1")
			sameSet(t, "after AXFR", zoneSet(t, axfr(t, pAddr)), zoneSet(t, axfr(t, rlAddr)))
			sameSet(t, "after AXFR (zone text)", textSet(t, xfrZone(1)), zoneSet(t, axfr(t, rlAddr)))
			sameAnswers(t, pAddr, rlAddr)

			if err := os.WriteFile(p.ZoneFile(xfrOrigin), []byte(xfrZone(2)), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := p.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			waitSerial(t, p, 2)
			waitSerial(t, rl, 2) // our SOA REFRESH is an hour: only NOTIFY gets us here
			sameSet(t, "after NOTIFY", zoneSet(t, axfr(t, pAddr)), zoneSet(t, axfr(t, rlAddr)))
			sameSet(t, "after NOTIFY (zone text)", textSet(t, xfrZone(2)), zoneSet(t, axfr(t, rlAddr)))
			sameAnswers(t, pAddr, rlAddr)
			log := readLog(t, rl)
			if !strings.Contains(log, "serial=2") {
				t.Errorf("no transfer of serial 2 logged:\n%s", rl.LogTail())
			}
			incremental := strings.Contains(log, "serial=2 incremental=true")
			t.Logf("%s: incremental transfer used: %v", peer, incremental)
			// Knot keeps a journal and answers IXFR; NSD 4.6 answers IXFR
			// with the whole zone (RFC 1995 4 allows it).
			if peer == "knot" && !incremental {
				t.Errorf("Knot's change did not arrive by IXFR:\n%s", rl.LogTail())
			}
		})
	}
}
