package main

import (
	"io"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

// `rootline auth --metrics ADDR --query-log`: the resolver's metrics and
// query log, for the authoritative role.
func TestAuthMetricsAndQueryLog(t *testing.T) {
	port := peers.FreePort(t, netip.MustParseAddr("127.0.0.1"))
	maddr := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port).String()
	var stderr syncBuffer
	d := startDaemon(t, authCommand, []string{"--listen", "127.0.0.1:0", "--zone", "example.test=../../internal/auth/testdata/example.test.zone",
		"--metrics", maddr, "--query-log"}, &stderr)
	m := new(dns.Msg)
	m.SetQuestion("www.example.test.", dns.TypeA)
	if r, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, d.udp[0].String()); err != nil || r.Rcode != dns.RcodeSuccess {
		t.Fatalf("query: %v %v\n%s", r, err, stderr.String())
	}
	resp, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `rootline_auth_queries_total{cache="miss",proto="udp",rcode="NOERROR"} 1`) {
		t.Errorf("metrics:\n%s", body)
	}
	if err := d.stop(); err != nil {
		t.Fatalf("auth returned %v", err)
	}
	if !strings.Contains(stderr.String(), "name=www.example.test. type=A rcode=NOERROR") {
		t.Errorf("no query log line:\n%s", stderr.String())
	}
}
