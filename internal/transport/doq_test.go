//go:build quic

package transport

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/rootline-dns/rootline/internal/pki"
	"github.com/rootline-dns/rootline/internal/server"
)

// startDoQ starts our server with a DoQ listener beside encServer's.
func startDoQ(t *testing.T) (*encServer, netip.AddrPort) {
	t.Helper()
	now := time.Now()
	ca, _ := pki.NewCA("doq CA", now.Add(-time.Hour), now.Add(time.Hour))
	pair, _ := ca.Issue([]string{"dns.test"}, nil, now.Add(-time.Hour), now.Add(time.Hour))
	var doq netip.AddrPort
	es := startEncServerWith(t, server.Config{ListenQUIC: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}}, ca, pair)
	doq = es.quic
	return es, doq
}

// TestDoQ: our DoQ client against our DoQ server: answers, one
// connection for 50 concurrent queries, padded replies to padded
// queries.
func TestDoQ(t *testing.T) {
	es, addr := startDoQ(t)
	d := NewDoQ(TLSOptions{ServerName: "dns.test", RootCAs: es.pool, Timeout: 5 * time.Second})
	defer d.Close()
	r, out, err := d.ExchangeAttempt(context.Background(), addr, aQuery("first.test."), Attempt{})
	wantA(t, "doq", r, err)
	if out.Network != "quic" {
		t.Errorf("network %q", out.Network)
	}
	if _, info, err := d.ExchangeInfo(context.Background(), addr, aQuery("padded.test.")); err != nil || info.Size%server.PaddingBlock != 0 {
		t.Errorf("reply of %d bytes not padded (%v)", info.Size, err)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			r, err := d.Exchange(context.Background(), addr, aQuery(fmt.Sprintf("q%d.test.", i)))
			if err != nil || len(r.Answer) != 1 {
				t.Errorf("q%d: %v %v", i, r, err)
			}
		})
	}
	wg.Wait()
	if n := es.conns(); n != 1 {
		t.Errorf("%d connections (client ports) for 51 queries, want 1", n)
	}
	// A wrong name and an untrusted CA (the system's) fail.
	for _, o := range []TLSOptions{{ServerName: "wrong.test", RootCAs: es.pool}, {ServerName: "dns.test"}} {
		o.Timeout = 5 * time.Second
		if _, err := NewDoQ(o).Exchange(context.Background(), addr, aQuery("v.test.")); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
}

// TestDoQNonzeroID: RFC 9250 4.2.1: a query whose ID is not 0 is a
// protocol error that closes the connection.
func TestDoQNonzeroID(t *testing.T) {
	es, addr := startDoQ(t)
	c, err := quic.DialAddr(context.Background(), addr.String(), &tls.Config{RootCAs: es.pool, ServerName: "dns.test", NextProtos: []string{"doq"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := c.OpenStreamSync(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	q := aQuery("id.test.")
	q.Id = 4711
	b, _ := q.Pack()
	st.Write(append([]byte{byte(len(b) >> 8), byte(len(b))}, b...))
	st.Close()
	st.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err = io.ReadAll(st)
	var ae *quic.ApplicationError
	select {
	case <-c.Context().Done():
	case <-time.After(5 * time.Second):
	}
	if cause := context.Cause(c.Context()); !errorsAs(cause, &ae) || ae.ErrorCode != 0x2 {
		t.Errorf("connection not closed with DOQ_PROTOCOL_ERROR: read %v, cause %v", err, cause)
	}
}
