package main

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
)

// ednsErrorServer answers every query SERVFAIL with the Extended DNS
// Error its first label names: text (22 with EXTRA-TEXT), notext (20
// without), unknown (a code RFC 8914 does not name).
func ednsErrorServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetRcode(q, dns.RcodeServerFailure)
		ede := &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeNoReachableAuthority, ExtraText: "no server answered for example.com. (3 timeouts)"}
		switch strings.SplitN(q.Question[0].Name, ".", 2)[0] {
		case "notext":
			ede = &dns.EDNS0_EDE{InfoCode: dns.ExtendedErrorCodeNotAuthoritative}
		case "unknown":
			ede = &dns.EDNS0_EDE{InfoCode: 99, ExtraText: "private use"}
		}
		m.SetEdns0(1232, false)
		m.IsEdns0().Option = append(m.IsEdns0().Option, ede)
		w.WriteMsg(m) //nolint:errcheck
	})}
	go srv.ActivateAndServe()            //nolint:errcheck
	t.Cleanup(func() { srv.Shutdown() }) //nolint:errcheck
	return pc.LocalAddr().String()
}

// edeLines returns the lines of dig-style output that show an EDE.
func edeLines(out string) []string {
	var lines []string
	for l := range strings.SplitSeq(out, "\n") {
		if strings.HasPrefix(l, "; EDE") {
			lines = append(lines, l)
		}
	}
	return lines
}

// rootline lookup shows an Extended DNS Error as dig does.
func TestLookupEDEAsDig(t *testing.T) {
	dig := peers.Need(t, "dig")
	addr := ednsErrorServer(t)
	host, port, _ := net.SplitHostPort(addr)
	for _, name := range []string{"text.example.", "notext.example.", "unknown.example."} {
		want := edeLines(runPeer(t, dig, "@"+host, "-p", port, name, "A"))
		var out, errb bytes.Buffer
		run(context.Background(), []string{"lookup", "@" + addr, name, "A"}, &out, &errb) //nolint:errcheck // SERVFAIL is the point
		got := edeLines(out.String())
		if len(want) != 1 || strings.Join(got, "\n") != want[0] {
			t.Errorf("%s:\nrootline %q\ndig      %q\n%s", name, got, want, errb.String())
		}
	}
}
