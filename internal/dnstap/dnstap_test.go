package dnstap

import (
	"bytes"
	"context"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

// collect runs Capture on ln in the background.
func collect(t *testing.T, ln net.Listener) <-chan []byte {
	out := make(chan []byte, 1)
	go func() {
		defer close(out)
		file, err := Capture(ln, 30*time.Second)
		if err != nil {
			t.Error(err)
			return
		}
		out <- file
	}()
	return out
}

// TestDnstapRead logs one message of each type Rootline sends over a
// real Frame Streams session and checks that BIND's dnstap-read lists
// them with their types, addresses, transports and questions.
func TestDnstapRead(t *testing.T) {
	reader := peers.Need(t, "dnstap-read")
	dir := t.TempDir()
	sock := filepath.Join(dir, "dnstap.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := collect(t, ln)

	q := new(dns.Msg)
	q.SetQuestion("www.example.com.", dns.TypeAAAA)
	qw, _ := q.Pack()
	r := new(dns.Msg)
	r.SetReply(q)
	r.Answer = append(r.Answer, &dns.AAAA{Hdr: dns.RR_Header{Name: "www.example.com.", Rrtype: dns.TypeAAAA, Class: dns.ClassINET, Ttl: 60}, AAAA: net.ParseIP("64:ff9b::c000:201")})
	rw, _ := r.Pack()
	client := netip.MustParseAddrPort("127.0.0.1:5353")
	self := netip.MustParseAddrPort("127.0.0.53:53")
	up := netip.MustParseAddrPort("[::1]:5300")
	when := time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)
	msgs := []Message{
		{ClientQuery, UDP, client, self, when, qw},
		{ResolverQuery, TCP, netip.MustParseAddrPort("[::1]:40000"), up, when, qw},
		{ResolverResponse, TCP, netip.MustParseAddrPort("[::1]:40000"), up, when, rw},
		{ClientResponse, UDP, client, self, when, rw},
		{AuthQuery, UDP, client, self, when, qw},
		{AuthResponse, UDP, client, self, when, rw},
	}
	l := New(Config{Path: sock, Identity: "rootline-test", Version: "rootline"})
	for i := range msgs {
		l.Log(&msgs[i])
	}
	l.Close()
	file := <-got
	if l.Sent() != uint64(len(msgs)) || l.Dropped() != 0 {
		t.Fatalf("sent %d dropped %d", l.Sent(), l.Dropped())
	}
	path := filepath.Join(dir, "capture.fstrm")
	if err := os.WriteFile(path, file, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, reader, path).CombinedOutput()
	if err != nil {
		t.Fatalf("dnstap-read: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{
		"CQ 127.0.0.1:5353 -> 127.0.0.53:53 UDP",
		"RQ ::1:40000 -> ::1:5300 TCP",
		"RR ::1:40000 <- ::1:5300 TCP",
		"CR 127.0.0.1:5353 <- 127.0.0.53:53 UDP",
		"AQ 127.0.0.1:5353 -> 127.0.0.53:53 UDP",
		"AR 127.0.0.1:5353 <- 127.0.0.53:53 UDP",
	}
	if len(lines) != len(want) {
		t.Fatalf("dnstap-read listed %d messages, want %d:\n%s", len(lines), len(want), out)
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) || !strings.Contains(lines[i], "www.example.com/IN/AAAA") {
			t.Errorf("line %d: %q, want %q and the question", i, lines[i], w)
		}
	}
	t.Logf("dnstap-read:\n%s", out)

	// The YAML form shows the identity and the response's answer.
	yout, err := exec.CommandContext(ctx, reader, "-y", path).CombinedOutput()
	if err != nil || !bytes.Contains(yout, []byte("identity: rootline-test")) || !bytes.Contains(yout, []byte("64:ff9b::c000:201")) {
		t.Errorf("dnstap-read -y: %v\n%s", err, yout)
	}
}
