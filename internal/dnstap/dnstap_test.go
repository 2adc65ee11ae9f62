package dnstap

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
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

// collect is a Frame Streams reader on a Unix socket, as a dnstap
// collector is: it accepts one writer, takes its frames until STOP, and
// returns them as a Frame Streams file (START, the data frames, STOP),
// the form dnstap-read reads.
func collect(t *testing.T, ln net.Listener) <-chan []byte {
	out := make(chan []byte, 1)
	go func() {
		defer close(out)
		conn, err := ln.Accept()
		if err != nil {
			t.Error(err)
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(30 * time.Second)) //nolint:errcheck
		if typ, types, err := readControl(conn); err != nil || typ != ctrlReady || len(types) != 1 || types[0] != ContentType {
			t.Errorf("READY: %d %q %v", typ, types, err)
			return
		}
		conn.Write(appendControl(nil, ctrlAccept, ContentType)) //nolint:errcheck
		if typ, types, err := readControl(conn); err != nil || typ != ctrlStart || len(types) != 1 {
			t.Errorf("START: %d %q %v", typ, types, err)
			return
		}
		file := appendControl(nil, ctrlStart, ContentType)
		for {
			var n [4]byte
			if _, err := io.ReadFull(conn, n[:]); err != nil {
				t.Error(err)
				return
			}
			l := binary.BigEndian.Uint32(n[:])
			if l == 0 { // a control frame: it must be STOP
				var hdr [8]byte
				if _, err := io.ReadFull(conn, hdr[:]); err != nil || binary.BigEndian.Uint32(hdr[4:]) != ctrlStop {
					t.Errorf("STOP: %x %v", hdr, err)
					return
				}
				conn.Write(appendControl(nil, ctrlFinish, "")) //nolint:errcheck
				out <- append(file, appendControl(nil, ctrlStop, "")...)
				return
			}
			frame := make([]byte, l)
			if _, err := io.ReadFull(conn, frame); err != nil {
				t.Error(err)
				return
			}
			file = append(append(file, n[:]...), frame...)
		}
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
