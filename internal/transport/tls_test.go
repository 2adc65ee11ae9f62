package transport

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/internal/pki"
	"github.com/rootline-dns/rootline/internal/server"
)

// encServer is our own server with DoT and DoH listeners answering every
// A query with 192.0.2.1 and the client's port in a TXT record (to count
// connections).
type encServer struct {
	dot, doh netip.AddrPort
	quic     netip.AddrPort // when cfg.ListenQUIC was set
	pool     *x509.CertPool
	ca       *pki.CA
	mu       sync.Mutex
	ports    map[string]bool // client address:port seen
}

func startEncServer(t *testing.T, cfg server.Config, names ...string) *encServer {
	t.Helper()
	now := time.Now()
	ca, err := pki.NewCA("transport test CA", now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pair, err := ca.Issue(names, []netip.Addr{netip.MustParseAddr("127.0.0.1")}, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return startEncServerWith(t, cfg, ca, pair)
}

func startEncServerWith(t *testing.T, cfg server.Config, ca *pki.CA, pair *pki.Pair) *encServer {
	t.Helper()
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(cf, pair.CertPEM, 0o600)
	os.WriteFile(kf, pair.KeyPEM, 0o600)
	cert, err := server.LoadCertificate(cf, kf)
	if err != nil {
		t.Fatal(err)
	}
	es := &encServer{pool: x509.NewCertPool(), ca: ca, ports: map[string]bool{}}
	es.pool.AddCert(ca.Cert)
	lo := netip.MustParseAddrPort("127.0.0.1:0")
	cfg.Listen, cfg.ListenTLS, cfg.ListenHTTPS, cfg.TLS = []netip.AddrPort{lo}, []netip.AddrPort{lo}, []netip.AddrPort{lo}, cert.Config()
	s := server.New(cfg, server.MsgHandler(func(_ context.Context, req *server.Request, q *dns.Msg) (*dns.Msg, error) {
		es.mu.Lock()
		es.ports[req.Remote.String()] = true
		es.mu.Unlock()
		r := new(dns.Msg)
		r.SetReply(q)
		r.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 60}, A: net.IPv4(192, 0, 2, 1)}}
		if opt := q.IsEdns0(); opt != nil {
			r.SetEdns0(1232, false)
		}
		return r, nil
	}))
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Shutdown(context.Background()) })
	dot, doh := s.EncryptedAddrs()
	es.dot, es.doh = dot[0], doh[0]
	if q := s.QUICAddrs(); len(q) > 0 {
		es.quic = q[0]
	}
	return es
}

func (es *encServer) conns() int {
	es.mu.Lock()
	defer es.mu.Unlock()
	return len(es.ports)
}

func aQuery(name string) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(name, dns.TypeA)
	return m
}

func wantA(t *testing.T, what string, r *dns.Msg, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.1" {
		t.Fatalf("%s: %v", what, r)
	}
}

// TestEncryptedClients: the DoT and DoH clients get answers from our
// server, reuse their connections (50 concurrent queries: one DoT
// connection, at most maxHTTPConns DoH ones), and send padded queries.
func TestEncryptedClients(t *testing.T) {
	es := startEncServer(t, server.Config{}, "dns.test")
	o := TLSOptions{ServerName: "dns.test", RootCAs: es.pool, Timeout: 5 * time.Second}
	for _, tc := range []struct {
		name     string
		ex       AttemptExchanger
		addr     netip.AddrPort
		maxConns int
	}{
		{"tls", NewDoT(o), es.dot, 1},
		{"https", NewDoH(DoHOptions{TLSOptions: o}), es.doh, maxHTTPConns},
	} {
		es.mu.Lock()
		clear(es.ports)
		es.mu.Unlock()
		ctx := context.Background()
		r, out, err := tc.ex.ExchangeAttempt(ctx, tc.addr, aQuery("first.test."), Attempt{})
		wantA(t, tc.name, r, err)
		if out.Network != tc.name {
			t.Errorf("%s: network %q", tc.name, out.Network)
		}
		var wg sync.WaitGroup
		for i := range 50 {
			wg.Go(func() {
				r, err := tc.ex.Exchange(ctx, tc.addr, aQuery(fmt.Sprintf("q%d.test.", i)))
				if err != nil || len(r.Answer) != 1 || r.Question[0].Name != fmt.Sprintf("q%d.test.", i) {
					t.Errorf("%s q%d: %v %v", tc.name, i, r, err)
				}
			})
		}
		wg.Wait()
		if n := es.conns(); n > tc.maxConns {
			t.Errorf("%s: %d connections for 51 queries, want at most %d", tc.name, n, tc.maxConns)
		}
	}
}

// TestEncryptedClientsVerify: an untrusted CA, a wrong name and an
// expired certificate fail; a pinned key is trusted whatever signed it,
// and a wrong pin is not.
func TestEncryptedClientsVerify(t *testing.T) {
	now := time.Now()
	ca, _ := pki.NewCA("verify CA", now.Add(-time.Hour), now.Add(time.Hour))
	expired, _ := ca.Issue([]string{"dns.test"}, nil, now.Add(-2*time.Hour), now.Add(-time.Hour))
	good, _ := ca.Issue([]string{"dns.test"}, []netip.Addr{netip.MustParseAddr("127.0.0.1")}, now.Add(-time.Hour), now.Add(time.Hour))
	es := startEncServerWith(t, server.Config{}, ca, good)
	old := startEncServerWith(t, server.Config{}, ca, expired)
	other, _ := pki.NewCA("other CA", now.Add(-time.Hour), now.Add(time.Hour))
	otherPool := x509.NewCertPool()
	otherPool.AddCert(other.Cert)
	pin, _ := ParsePin(pki.SPKIPin(good.Leaf))
	wrongPin, _ := ParsePin(pki.SPKIPin(other.Cert))
	for _, tc := range []struct {
		name    string
		o       TLSOptions
		expired bool
		want    string // "" success
	}{
		{"trusted", TLSOptions{ServerName: "dns.test", RootCAs: es.pool}, false, ""},
		{"by address", TLSOptions{RootCAs: es.pool}, false, ""},
		{"untrusted CA", TLSOptions{ServerName: "dns.test", RootCAs: otherPool}, false, "unknown authority"},
		{"wrong name", TLSOptions{ServerName: "other.test", RootCAs: es.pool}, false, "other.test"},
		{"expired", TLSOptions{ServerName: "dns.test", RootCAs: es.pool}, true, "expired"},
		{"pinned", TLSOptions{ServerName: "dns.test", RootCAs: otherPool, Pins: [][]byte{pin}}, false, ""},
		{"wrong pin", TLSOptions{ServerName: "dns.test", RootCAs: es.pool, Pins: [][]byte{wrongPin}}, false, "pinned"},
	} {
		tc.o.Timeout = 5 * time.Second
		srv := es
		if tc.expired {
			srv = old
		}
		for _, ex := range []struct {
			kind string
			ex   Exchanger
			addr netip.AddrPort
		}{{"dot", NewDoT(tc.o), srv.dot}, {"doh", NewDoH(DoHOptions{TLSOptions: tc.o}), srv.doh}} {
			r, err := ex.ex.Exchange(context.Background(), ex.addr, aQuery("v.test."))
			switch {
			case tc.want == "":
				wantA(t, tc.name+" "+ex.kind, r, err)
			case err == nil || !strings.Contains(err.Error(), tc.want):
				t.Errorf("%s %s: err %v, want %q", tc.name, ex.kind, err, tc.want)
			}
		}
	}
}

// TestDoTServerCloses: a server that closes its connection after every
// reply (as one closing idle connections does) costs the client a new
// connection per query, never a failed query.
func TestDoTServerCloses(t *testing.T) {
	now := time.Now()
	ca, _ := pki.NewCA("closing CA", now.Add(-time.Hour), now.Add(time.Hour))
	pair, _ := ca.Issue([]string{"dns.test"}, nil, now.Add(-time.Hour), now.Add(time.Hour))
	kp, err := tls.X509KeyPair(pair.CertPEM, pair.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{kp}})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var accepted sync.WaitGroup
	accepted.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			// One query, one reply, then close.
			var hdr [2]byte
			if _, err := io.ReadFull(c, hdr[:]); err == nil {
				b := make([]byte, binary.BigEndian.Uint16(hdr[:]))
				io.ReadFull(c, b)
				q := new(dns.Msg)
				q.Unpack(b)
				r := new(dns.Msg)
				r.SetReply(q)
				r.Answer = []dns.RR{&dns.A{Hdr: dns.RR_Header{Name: q.Question[0].Name, Rrtype: dns.TypeA, Class: dns.ClassINET}, A: net.IPv4(192, 0, 2, 1)}}
				out, _ := r.Pack()
				c.Write(append([]byte{byte(len(out) >> 8), byte(len(out))}, out...))
			}
			c.Close()
		}
	})
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	d := NewDoT(TLSOptions{ServerName: "dns.test", RootCAs: pool, Timeout: 5 * time.Second})
	defer d.Close()
	addr := l.Addr().(*net.TCPAddr).AddrPort()
	for i := range 5 {
		r, err := d.Exchange(context.Background(), addr, aQuery(fmt.Sprintf("c%d.test.", i)))
		wantA(t, "query", r, err)
	}
	l.Close()
	accepted.Wait()
}

// TestDoTAgainstUnbound: our DoT client against Unbound's DoT service
// (tls-service-key, tls-service-pem).
func TestDoTAgainstUnbound(t *testing.T) {
	now := time.Now()
	ca, _ := pki.NewCA("unbound CA", now.Add(-time.Hour), now.Add(time.Hour))
	pair, _ := ca.Issue([]string{"unbound.test"}, nil, now.Add(-time.Hour), now.Add(time.Hour))
	dir := t.TempDir()
	cf, kf := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(cf, pair.CertPEM, 0o644)
	os.WriteFile(kf, pair.KeyPEM, 0o644)
	a := netip.MustParseAddr("127.0.86.2")
	dot := netip.AddrPortFrom(a, peers.FreePort(t, a))
	peers.StartUnbound(t, peers.UnboundConfig{Listen: netip.AddrPortFrom(a, 0), RootHints: ". 3600 NS a.root.\na.root. 3600 A 127.0.0.9\n",
		Extra: fmt.Sprintf("  interface: %s@%d\n  tls-port: %d\n  tls-service-key: %q\n  tls-service-pem: %q\n  local-data: \"ub.test. 60 A 192.0.2.1\"\n",
			a, dot.Port(), dot.Port(), kf, cf)})
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	d := NewDoT(TLSOptions{ServerName: "unbound.test", RootCAs: pool, Timeout: 5 * time.Second})
	defer d.Close()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			r, err := d.Exchange(context.Background(), dot, aQuery("ub.test."))
			if err != nil || len(r.Answer) != 1 {
				t.Errorf("unbound over DoT: %v %v", r, err)
			}
		})
	}
	wg.Wait()
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
