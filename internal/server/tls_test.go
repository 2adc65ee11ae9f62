package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/pki"
	"github.com/rootline-dns/rootline/internal/wire"
)

// testPKI is a CA and a certificate it signed for dns.test and 127.0.0.1,
// written to files as the daemons read them.
type testPKI struct {
	ca                *pki.CA
	caFile            string
	certFile, keyFile string
	pool              *x509.CertPool
}

func newTestPKI(t testing.TB, names ...string) *testPKI {
	t.Helper()
	now := time.Now()
	ca, err := pki.NewCA("rootline test CA", now.Add(-time.Hour), now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if names == nil {
		names = []string{"dns.test"}
	}
	dir := t.TempDir()
	p := &testPKI{ca: ca, caFile: filepath.Join(dir, "ca.pem"), certFile: filepath.Join(dir, "cert.pem"), keyFile: filepath.Join(dir, "key.pem"), pool: x509.NewCertPool()}
	p.pool.AddCert(ca.Cert)
	p.issue(t, names, now.Add(-time.Hour), now.Add(24*time.Hour))
	if err := os.WriteFile(p.caFile, ca.PEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// issue writes a new certificate for names (and 127.0.0.1, ::1) to the
// cert and key files.
func (p *testPKI) issue(t testing.TB, names []string, from, to time.Time) *pki.Pair {
	t.Helper()
	pair, err := p.ca.Issue(names, []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}, from, to)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.certFile, pair.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p.keyFile, pair.KeyPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	return pair
}

// transportHandler answers every query with one A record and a TXT
// record naming the transport the query came over.
func transportHandler() Handler {
	return MsgHandler(func(_ context.Context, req *Request, q *dns.Msg) (*dns.Msg, error) {
		r := new(dns.Msg)
		r.SetReply(q)
		name := q.Question[0].Name
		r.Answer = append(r.Answer,
			&dns.A{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 300}, A: net.IPv4(192, 0, 2, 1)},
			&dns.TXT{Hdr: dns.RR_Header{Name: name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 60}, Txt: []string{TransportName(req.Transport())}})
		if opt := q.IsEdns0(); opt != nil {
			r.SetEdns0(1232, opt.Do())
		}
		return r, nil
	})
}

// startTLS starts a server with one DoT and one DoH listener on
// 127.0.0.1 and the plain ones.
func startTLS(t testing.TB, cfg Config, p *testPKI) (*Server, *Certificate) {
	t.Helper()
	cert, err := LoadCertificate(p.certFile, p.keyFile)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Listen = loopbacks(t)[:1]
	cfg.ListenTLS = []netip.AddrPort{lo4}
	cfg.ListenHTTPS = []netip.AddrPort{lo4}
	cfg.TLS = cert.Config()
	return startServer(t, cfg, transportHandler()), cert
}

func dialDoT(t testing.TB, addr netip.AddrPort, pool *x509.CertPool, name string) *tls.Conn {
	t.Helper()
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: testTimeout}, Config: &tls.Config{RootCAs: pool, ServerName: name}}
	c, err := d.Dial("tcp", addr.String())
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(testTimeout))
	return c.(*tls.Conn)
}

func writeFrame(t testing.TB, w io.Writer, m *dns.Msg) {
	t.Helper()
	b := pack(t, m)
	if _, err := w.Write(append([]byte{byte(len(b) >> 8), byte(len(b))}, b...)); err != nil {
		t.Fatal(err)
	}
}

func readDoT(t testing.TB, r io.Reader) ([]byte, *dns.Msg) {
	t.Helper()
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		t.Fatalf("read: %v", err)
	}
	b := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatalf("read: %v", err)
	}
	m := new(dns.Msg)
	if err := m.Unpack(b); err != nil {
		t.Fatalf("unpack: %v", err)
	}
	return b, m
}

func txtOf(m *dns.Msg) string {
	for _, rr := range m.Answer {
		if txt, ok := rr.(*dns.TXT); ok {
			return strings.Join(txt.Txt, " ")
		}
	}
	return ""
}

func option(m *dns.Msg, code uint16) dns.EDNS0 {
	if opt := m.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if o.Option() == code {
				return o
			}
		}
	}
	return nil
}

// paddedQuery asks name with EDNS, edns-tcp-keepalive and (if pad) a
// padding option, as kdig +tls sends.
func paddedQuery(name string, pad bool) *dns.Msg {
	q := query(name, dns.TypeA)
	q.SetEdns0(1232, false)
	opt := q.IsEdns0()
	opt.Option = append(opt.Option, &dns.EDNS0_TCP_KEEPALIVE{Code: dns.EDNS0TCPKEEPALIVE})
	if pad {
		opt.Option = append(opt.Option, &dns.EDNS0_PADDING{Padding: make([]byte, 40)})
	}
	return q
}

// TestDoT: queries pipelined on one TLS connection are answered (the
// transport says tls), with the keepalive timeout (RFC 7828) and, when
// the query was padded, a reply padded to 468 bytes (RFC 8467); plain
// TCP gets the keepalive but never padding.
func TestDoT(t *testing.T) {
	p := newTestPKI(t)
	s, _ := startTLS(t, Config{TCPIdleTimeout: 7 * time.Second}, p)
	tlsAddrs, _ := s.EncryptedAddrs()
	c := dialDoT(t, tlsAddrs[0], p.pool, "dns.test")
	// Pipelined: both queries are written before either reply is read.
	writeFrame(t, c, paddedQuery("a.test.", true))
	writeFrame(t, c, paddedQuery("b.test.", false))
	br := bufio.NewReader(c)
	seen := map[string]bool{}
	for range 2 {
		raw, m := readDoT(t, br)
		name := m.Question[0].Name
		seen[name] = true
		if got := txtOf(m); got != "tls" {
			t.Errorf("%s: transport %q, want tls", name, got)
		}
		ka, _ := option(m, dns.EDNS0TCPKEEPALIVE).(*dns.EDNS0_TCP_KEEPALIVE)
		if ka == nil || ka.Timeout != 70 {
			t.Errorf("%s: keepalive %v, want 70 (7 s in 100 ms units)", name, ka)
		}
		padded := option(m, dns.EDNS0PADDING) != nil
		switch name {
		case "a.test.":
			if !padded || len(raw)%PaddingBlock != 0 {
				t.Errorf("padded query: reply of %d bytes, padding %v; want a multiple of %d", len(raw), padded, PaddingBlock)
			}
		case "b.test.":
			if padded {
				t.Errorf("unpadded query got a padded reply (%d bytes)", len(raw))
			}
		}
	}
	if !seen["a.test."] || !seen["b.test."] {
		t.Errorf("replies for %v", seen)
	}
	if st := c.ConnectionState(); st.Version != tls.VersionTLS13 {
		t.Errorf("TLS version %x, want 1.3", st.Version)
	}

	_, tcp := s.Addrs()
	r, err := exchange(t, "tcp", tcp[0], paddedQuery("c.test.", true))
	if err != nil {
		t.Fatal(err)
	}
	if option(r, dns.EDNS0PADDING) != nil {
		t.Error("plain TCP reply padded")
	}
	if option(r, dns.EDNS0TCPKEEPALIVE) == nil {
		t.Error("plain TCP reply without keepalive")
	}
	if got := txtOf(r); got != "tcp" {
		t.Errorf("transport %q over TCP", got)
	}
}

// TestTLSRejects: a client that does not trust the CA, or asks for a
// name the certificate does not carry, gets no connection; an expired
// certificate is refused by a verifying client.
func TestTLSRejects(t *testing.T) {
	p := newTestPKI(t)
	s, cert := startTLS(t, Config{}, p)
	tlsAddrs, httpsAddrs := s.EncryptedAddrs()
	other := newTestPKI(t)
	for _, addr := range []netip.AddrPort{tlsAddrs[0], httpsAddrs[0]} {
		cases := []struct {
			name string
			cfg  *tls.Config
			want string
		}{
			{"untrusted CA", &tls.Config{RootCAs: other.pool, ServerName: "dns.test"}, "unknown authority"},
			{"wrong name", &tls.Config{RootCAs: p.pool, ServerName: "other.test"}, "not other.test"},
			{"trusted", &tls.Config{RootCAs: p.pool, ServerName: "dns.test", NextProtos: []string{"h2"}}, ""},
		}
		for _, tc := range cases {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: testTimeout}, "tcp", addr.String(), tc.cfg)
			if c != nil {
				c.Close()
			}
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("%s %s: %v", addr, tc.name, err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("%s %s: err %v, want %q", addr, tc.name, err, tc.want)
			}
		}
	}
	// ALPN: "dot" for a client that offers it (RFC 9103 7.1), none for
	// one that offers nothing.
	for _, offer := range [][]string{{"dot"}, {"h2", "dot"}, nil} {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: testTimeout}, "tcp", tlsAddrs[0].String(),
			&tls.Config{RootCAs: p.pool, ServerName: "dns.test", NextProtos: offer})
		if err != nil {
			t.Fatalf("ALPN %q: %v", offer, err)
		}
		got, want := c.ConnectionState().NegotiatedProtocol, ""
		if offer != nil {
			want = "dot"
		}
		c.Close()
		if got != want {
			t.Errorf("ALPN offered %q: negotiated %q, want %q", offer, got, want)
		}
	}
	// Expired: reload an expired certificate; new handshakes get it.
	p.issue(t, []string{"dns.test"}, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	if err := cert.Reload(); err != nil {
		t.Fatal(err)
	}
	_, err := tls.DialWithDialer(&net.Dialer{Timeout: testTimeout}, "tcp", tlsAddrs[0].String(), &tls.Config{RootCAs: p.pool, ServerName: "dns.test"})
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired certificate: err %v", err)
	}
}

// TestCertificateReload: after Reload, new connections get the new
// certificate while one opened before keeps being answered.
func TestCertificateReload(t *testing.T) {
	p := newTestPKI(t)
	s, cert := startTLS(t, Config{}, p)
	tlsAddrs, _ := s.EncryptedAddrs()
	old := dialDoT(t, tlsAddrs[0], p.pool, "dns.test")
	writeFrame(t, old, query("before.test.", dns.TypeA))
	readDoT(t, old)

	pair := p.issue(t, []string{"dns.test", "renewed.test"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err := cert.Reload(); err != nil {
		t.Fatal(err)
	}
	fresh := dialDoT(t, tlsAddrs[0], p.pool, "renewed.test")
	if got := fresh.ConnectionState().PeerCertificates[0]; !got.Equal(pair.Leaf) {
		t.Errorf("new connection got serial %v, want the reloaded %v", got.SerialNumber, pair.Leaf.SerialNumber)
	}
	// The old connection was not dropped.
	writeFrame(t, old, query("after.test.", dns.TypeA))
	if _, m := readDoT(t, old); m.Question[0].Name != "after.test." {
		t.Errorf("old connection answered %v", m.Question)
	}
	// A broken pair leaves the certificate in use.
	os.WriteFile(p.keyFile, []byte("garbage"), 0o600)
	if err := cert.Reload(); err == nil {
		t.Error("reload of a broken key succeeded")
	}
	dialDoT(t, tlsAddrs[0], p.pool, "renewed.test")
}

func dohClient(p *testPKI) *http.Client {
	return &http.Client{Timeout: testTimeout, Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: p.pool, ServerName: "dns.test"},
		ForceAttemptHTTP2: true,
	}}
}

// TestDoH: GET and POST over HTTP/2, and POST over HTTP/1.1, are
// answered with application/dns-message and a max-age of the smallest
// TTL; malformed requests get the HTTP errors RFC 8484 implies.
func TestDoH(t *testing.T) {
	p := newTestPKI(t)
	s, _ := startTLS(t, Config{}, p)
	_, httpsAddrs := s.EncryptedAddrs()
	base := "https://" + httpsAddrs[0].String() + DoHPath
	q := pack(t, paddedQuery("web.test.", true))
	binary.BigEndian.PutUint16(q, 0) // RFC 8484 4.1: ID 0
	h2 := dohClient(p)
	h1 := &http.Client{Timeout: testTimeout, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: p.pool, ServerName: "dns.test"}, TLSNextProto: map[string]func(string, *tls.Conn) http.RoundTripper{}}}
	get := func(c *http.Client, u string) (*http.Response, error) { return c.Get(u) }
	post := func(c *http.Client, u string) (*http.Response, error) {
		return c.Post(u, DoHMediaType, bytes.NewReader(q))
	}
	for _, tc := range []struct {
		name  string
		c     *http.Client
		do    func(*http.Client, string) (*http.Response, error)
		url   string
		proto int
	}{
		{"GET h2", h2, get, base + "?dns=" + base64.RawURLEncoding.EncodeToString(q), 2},
		{"POST h2", h2, post, base, 2},
		{"POST http/1.1", h1, post, base, 1},
	} {
		resp, err := tc.do(tc.c, tc.url)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != DoHMediaType || resp.ProtoMajor != tc.proto {
			t.Fatalf("%s: %s %s %q", tc.name, resp.Proto, resp.Status, resp.Header.Get("Content-Type"))
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "max-age=60" {
			t.Errorf("%s: Cache-Control %q, want max-age=60", tc.name, cc)
		}
		m := new(dns.Msg)
		if err := m.Unpack(body); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if txtOf(m) != "https" || m.Id != 0 || len(body)%PaddingBlock != 0 {
			t.Errorf("%s: transport %q, id %d, %d bytes", tc.name, txtOf(m), m.Id, len(body))
		}
		if option(m, dns.EDNS0TCPKEEPALIVE) != nil {
			t.Errorf("%s: keepalive over DoH", tc.name)
		}
	}
	for _, tc := range []struct {
		name, method, url, ctype string
		body                     []byte
		want                     int
	}{
		{"bad base64", "GET", base + "?dns=!!!", "", nil, 400},
		{"no dns", "GET", base, "", nil, 400},
		{"short", "POST", base, DoHMediaType, q[:5], 400},
		{"wrong type", "POST", base, "text/plain", q, 415},
		{"wrong path", "POST", "https://" + httpsAddrs[0].String() + "/other", DoHMediaType, q, 404},
		{"method", "PUT", base, DoHMediaType, q, 405},
		{"response", "POST", base, DoHMediaType, append([]byte{0, 0, 0x80}, q[3:]...), 400},
	} {
		req, _ := http.NewRequest(tc.method, tc.url, bytes.NewReader(tc.body))
		if tc.ctype != "" {
			req.Header.Set("Content-Type", tc.ctype)
		}
		resp, err := h2.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: %s, want %d", tc.name, resp.Status, tc.want)
		}
	}
}

// TestStreamConnLimits: DoT and DoH connections share the TCP listener's
// per-client limit: with a share of one, a second connection of any
// stream transport is closed at once.
func TestStreamConnLimits(t *testing.T) {
	p := newTestPKI(t)
	s, _ := startTLS(t, Config{MaxTCPConnsPerClient: 1}, p)
	tlsAddrs, httpsAddrs := s.EncryptedAddrs()
	first := dialDoT(t, tlsAddrs[0], p.pool, "dns.test")
	writeFrame(t, first, query("one.test.", dns.TypeA))
	readDoT(t, first)
	for _, addr := range []netip.AddrPort{tlsAddrs[0], httpsAddrs[0]} {
		c, err := tls.DialWithDialer(&net.Dialer{Timeout: testTimeout}, "tcp", addr.String(), &tls.Config{RootCAs: p.pool, ServerName: "dns.test"})
		if err == nil {
			// TLS 1.3 lets the client finish before the server reads; the
			// close shows on the first read.
			c.SetDeadline(time.Now().Add(testTimeout))
			writeFrame(t, c, query("two.test.", dns.TypeA))
			_, err = c.Read(make([]byte, 1))
			c.Close()
		}
		if err == nil {
			t.Errorf("%s: a second connection was served", addr)
		}
	}
}

// TestKdigAndCurl: kdig over DoT and DoH, and curl's DoH GET and POST
// over HTTP/2, trusting our test CA.
func TestKdigAndCurl(t *testing.T) {
	kdig := requirePeer(t, "/usr/bin/kdig")
	curl := requirePeer(t, "/usr/bin/curl")
	p := newTestPKI(t)
	s, _ := startTLS(t, Config{}, p)
	tlsAddrs, httpsAddrs := s.EncryptedAddrs()
	run := func(name string, args ...string) string {
		t.Helper()
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
		return string(out)
	}
	for _, tc := range []struct {
		mode string
		addr netip.AddrPort
		want string
	}{{"+tls", tlsAddrs[0], "tls"}, {"+https", httpsAddrs[0], "https"}} {
		out := run(kdig, "@"+tc.addr.Addr().String(), "-p", strconv.Itoa(int(tc.addr.Port())), tc.mode,
			"+tls-ca="+p.caFile, "+tls-hostname=dns.test", "+retry=0", "+timeout=3", "kdig.test.", "A")
		if !strings.Contains(out, `"`+tc.want+`"`) || !strings.Contains(out, "192.0.2.1") {
			t.Errorf("kdig %s:\n%s", tc.mode, out)
		}
		// kdig pads over TLS by default: the reply is padded too.
		if !strings.Contains(out, "PADDING") {
			t.Errorf("kdig %s: no padding in the reply:\n%s", tc.mode, out)
		}
		// An untrusted CA is an error.
		other := newTestPKI(t)
		cmd := exec.Command(kdig, "@"+tc.addr.Addr().String(), "-p", strconv.Itoa(int(tc.addr.Port())), tc.mode,
			"+tls-ca="+other.caFile, "+tls-hostname=dns.test", "+retry=0", "+timeout=3", "kdig.test.", "A")
		if out, _ := cmd.CombinedOutput(); strings.Contains(string(out), "192.0.2.1") {
			t.Errorf("kdig %s trusted another CA:\n%s", tc.mode, out)
		}
	}
	q := pack(t, query("curl.test.", dns.TypeA))
	binary.BigEndian.PutUint16(q, 0)
	qfile := filepath.Join(t.TempDir(), "q.bin")
	os.WriteFile(qfile, q, 0o644)
	url := "https://dns.test:" + strconv.Itoa(int(httpsAddrs[0].Port())) + DoHPath
	resolve := "dns.test:" + strconv.Itoa(int(httpsAddrs[0].Port())) + ":127.0.0.1"
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"GET", []string{url + "?dns=" + base64.RawURLEncoding.EncodeToString(q)}},
		{"POST", []string{"-H", "Content-Type: " + DoHMediaType, "--data-binary", "@" + qfile, url}},
	} {
		rfile := filepath.Join(t.TempDir(), "r.bin")
		args := append([]string{"-sS", "--http2", "--cacert", p.caFile, "--resolve", resolve, "-w", "%{http_version} %{content_type}", "-o", rfile}, tc.args...)
		out := run(curl, args...)
		if out != "2 "+DoHMediaType {
			t.Errorf("curl %s: %q, want HTTP/2 and %s", tc.name, out, DoHMediaType)
		}
		b, _ := os.ReadFile(rfile)
		m := new(dns.Msg)
		if err := m.Unpack(b); err != nil || txtOf(m) != "https" {
			t.Errorf("curl %s: reply %v (%v)", tc.name, m, err)
		}
	}
}

// FuzzMinTTL: any bytes walk without a panic, and a TTL found is one of
// the message's records'.
func FuzzMinTTL(f *testing.F) {
	r := new(dns.Msg)
	r.SetQuestion("a.test.", dns.TypeA)
	r.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: "a.test.", Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 30}, A: net.IPv4(192, 0, 2, 1)}}
	b, _ := r.Pack()
	f.Add(b)
	f.Add(b[:20])
	f.Fuzz(func(t *testing.T, msg []byte) {
		ttl, ok := minTTL(msg)
		if !ok {
			return
		}
		m := new(dns.Msg)
		if m.Unpack(msg) != nil {
			return
		}
		for _, rr := range append(m.Answer, m.Ns...) {
			if rr.Header().Ttl == ttl {
				return
			}
		}
		t.Errorf("min TTL %d is no record's", ttl)
	})
}

// TestPad: replies of every length from a header up come out a multiple
// of the block, or as they were when they have no OPT record.
func TestPad(t *testing.T) {
	for n := range 600 {
		r := new(dns.Msg)
		r.SetQuestion("a.test.", dns.TypeTXT)
		r.SetEdns0(1232, false)
		if n > 0 {
			r.Answer = []dns.RR{&dns.TXT{Hdr: dns.RR_Header{Name: "a.test.", Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: []string{strings.Repeat("x", n%250)}}}
		}
		b := pack(t, r)
		if got := wire.Pad(b, PaddingBlock); len(got)%PaddingBlock != 0 {
			t.Fatalf("%d bytes padded to %d", len(b), len(got))
		}
	}
	b := pack(t, query("a.test.", dns.TypeA))
	if got := wire.Pad(b, PaddingBlock); len(got) != len(b) {
		t.Errorf("reply without OPT padded to %d", len(got))
	}
}

// TestTLSResumption: a client that comes back resumes its session (RFC
// 8446 2.2 tickets, on by default in crypto/tls) instead of a full
// handshake, over DoT and DoH alike.
func TestTLSResumption(t *testing.T) {
	p := newTestPKI(t)
	s, _ := startTLS(t, Config{}, p)
	tlsAddrs, httpsAddrs := s.EncryptedAddrs()
	for _, addr := range []netip.AddrPort{tlsAddrs[0], httpsAddrs[0]} {
		cfg := &tls.Config{RootCAs: p.pool, ServerName: "dns.test", ClientSessionCache: tls.NewLRUClientSessionCache(4)}
		for i, want := range []bool{false, true} {
			c, err := tls.DialWithDialer(&net.Dialer{Timeout: testTimeout}, "tcp", addr.String(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			// TLS 1.3 tickets come after the handshake: a read takes them in.
			c.SetDeadline(time.Now().Add(testTimeout))
			if addr == tlsAddrs[0] {
				writeFrame(t, c, query("r.test.", dns.TypeA))
				readDoT(t, c)
			} else {
				c.Write([]byte("GET /dns-query HTTP/1.1\r\nHost: dns.test\r\nConnection: close\r\n\r\n"))
				io.ReadAll(c)
			}
			if got := c.ConnectionState().DidResume; got != want {
				t.Errorf("%s connection %d: resumed %v, want %v", addr, i+1, got, want)
			}
			c.Close()
		}
	}
}

// BenchmarkDoTConnect is the cost of a new DoT connection with one query
// on it (client and server in one process): a full handshake (ECDSA
// P-256, X25519) or a resumed one.
func BenchmarkDoTConnect(b *testing.B) {
	p := newTestPKI(b)
	s, _ := startTLS(b, Config{}, p)
	tlsAddrs, _ := s.EncryptedAddrs()
	q := pack(b, query("bench.test.", dns.TypeA))
	frame := append([]byte{byte(len(q) >> 8), byte(len(q))}, q...)
	for _, resume := range []bool{false, true} {
		name := "full"
		cfg := &tls.Config{RootCAs: p.pool, ServerName: "dns.test"}
		if resume {
			name, cfg.ClientSessionCache = "resumed", tls.NewLRUClientSessionCache(4)
		}
		b.Run(name, func(b *testing.B) {
			buf := make([]byte, 512)
			for b.Loop() {
				c, err := tls.Dial("tcp", tlsAddrs[0].String(), cfg)
				if err != nil {
					b.Fatal(err)
				}
				c.Write(frame)
				if _, err := io.ReadAtLeast(c, buf, 2); err != nil {
					b.Fatal(err)
				}
				c.Close()
			}
		})
	}
}
