//go:build unix && quic

package main

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestQUIC: rootline lookup +quic against a resolver's --listen-quic, and
// a forwarder asking it through quic://.
func TestQUIC(t *testing.T) {
	f := newTLSFiles(t, "dns.test")
	doq := freeAddr(t, "127.0.85.13")
	var log syncBuffer
	d := startDaemon(t, resolverCommand, []string{"--listen", "127.0.85.13:0", "--listen-quic", doq.String(),
		"--tls-cert", f.certFile, "--tls-key", f.keyFile, "--local-data", "www.quic.test. 300 A 192.0.2.30",
		"--root-hints", writeHints(t), "--allow-loopback-upstream", "--query-log"}, &log)
	defer d.stop()
	var out, errOut strings.Builder
	err := run(t.Context(), []string{"lookup", "@" + doq.Addr().String(), "-p", strconv.Itoa(int(doq.Port())), "+quic",
		"+tls-ca=" + f.caFile, "+tls-hostname=dns.test", "www.quic.test"}, &out, &errOut)
	if err != nil || !strings.Contains(out.String(), "192.0.2.30") || !strings.Contains(out.String(), "(QUIC)") {
		t.Errorf("lookup +quic: %v\n%s%s", err, out.String(), errOut.String())
	}

	var fwdLog syncBuffer
	fwd := startDaemon(t, resolverCommand, []string{"--listen", "127.0.85.14:0", "--tls-ca", f.caFile,
		"--forward", fmt.Sprintf(".=quic://%s#dns.test", doq), "--root-hints", writeHints(t), "--allow-loopback-upstream", "--insecure", "test"}, &fwdLog)
	defer fwd.stop()
	q := new(dns.Msg)
	q.SetQuestion("www.quic.test.", dns.TypeA)
	r, _, err := (&dns.Client{Timeout: 10 * time.Second}).Exchange(q, fwd.udp[0].String())
	if err != nil || len(r.Answer) != 1 || r.Answer[0].(*dns.A).A.String() != "192.0.2.30" {
		t.Errorf("forward over quic: %v %v\n%s", r, err, fwdLog.String())
	}
	if !strings.Contains(log.String(), "proto=quic name=www.quic.test.") {
		t.Errorf("no DoQ query in the server's log:\n%s", log.String())
	}
}
