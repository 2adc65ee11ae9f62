package main

import (
	"bytes"
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/tsig"
)

const lookupSecret = "pWVKwYnR4wOVYackxwOUVGH295q8v6DTGS7W0hXc6g8="

// tsigAnswerer serves A 192.0.2.1 for every name behind the TSIG
// middleware with key k, on 127.0.0.1.
func tsigAnswerer(t *testing.T, k tsig.Key) netip.AddrPort {
	t.Helper()
	kr, _ := tsig.NewKeyring(k)
	ts := tsig.NewServer(nil, nil)
	ts.SetKeys(kr)
	h := server.MsgHandler(func(_ context.Context, _ *server.Request, q *dns.Msg) (*dns.Msg, error) {
		r := new(dns.Msg)
		r.SetReply(q)
		r.Authoritative = true
		rr, _ := dns.NewRR(q.Question[0].Name + " 300 IN A 192.0.2.1")
		r.Answer = []dns.RR{rr}
		return r, nil
	})
	srv := server.New(server.Config{Listen: []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}, UDPSockets: 1}, server.Chain(h, ts.Middleware()))
	ctx, cancel := context.WithCancel(context.Background())
	if err := srv.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); srv.Shutdown(context.Background()) })
	udp, _ := srv.Addrs()
	return udp[0]
}

// TestLookupTSIG: -y and -k sign, and the output says what dig says about
// the reply's signature.
func TestLookupTSIG(t *testing.T) {
	k, err := tsig.NewKey("lk", "hmac-sha384", lookupSecret)
	if err != nil {
		t.Fatal(err)
	}
	addr := tsigAnswerer(t, k)
	keyFile := filepath.Join(t.TempDir(), "k.conf")
	os.WriteFile(keyFile, []byte("key \"lk\" {\n\talgorithm hmac-sha384;\n\tsecret \""+lookupSecret+"\";\n};\n"), 0o600)
	tests := []struct {
		name string
		args []string
		want []string // lines, in order
		not  []string
	}{
		{"-y", []string{"-y", "hmac-sha384:lk:" + lookupSecret},
			[]string{"status: NOERROR", "192.0.2.1", ";; TSIG PSEUDOSECTION:", "lk.\t0\tANY\tTSIG\thmac-sha384. ", " NOERROR 0 \n", ";; MSG SIZE  rcvd: "},
			[]string{"Couldn't verify", "WARNING"}},
		{"-k", []string{"-k", keyFile}, []string{"status: NOERROR", ";; TSIG PSEUDOSECTION:"}, []string{"Couldn't", "WARNING"}},
		{"wrong secret", []string{"-y", "hmac-sha384:lk:" + strings.Repeat("A", 43) + "="},
			[]string{";; Couldn't verify signature: tsig indicates error\n", "status: NOTAUTH", ";; TSIG PSEUDOSECTION:", " BADSIG 0 \n",
				";; MSG SIZE  rcvd: ", ";; WARNING -- Some TSIG could not be validated\n\n"}, []string{"192.0.2.1"}},
		{"other algorithm", []string{"-y", "hmac-sha256:lk:" + lookupSecret}, []string{"tsig indicates error", "BADKEY"}, nil},
		{"+short", []string{"+short", "-y", "hmac-sha384:lk:" + lookupSecret}, []string{"192.0.2.1\n"}, []string{"TSIG", "Couldn't"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"lookup", "@" + addr.String(), "www.example.test", "+norecurse"}, tc.args...)
			if err := run(context.Background(), args, &out, &errb); err != nil {
				t.Fatalf("%v\n%s", err, errb.String())
			}
			s := out.String()
			at := 0
			for _, w := range tc.want {
				i := strings.Index(s[at:], w)
				if i < 0 {
					t.Fatalf("no %q after byte %d:\n%s", w, at, s)
				}
				at += i + len(w)
			}
			for _, n := range tc.not {
				if strings.Contains(s, n) {
					t.Errorf("%q in:\n%s", n, s)
				}
			}
		})
	}
}

func TestLookupTSIGBadUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-y"},
		{"-y", "nocolon"},
		{"-y", "hmac-sha999:k:" + lookupSecret},
		{"-y", "k:not-base64!"},
		{"-k", "/nonexistent/key.conf"},
		{"-k", os.DevNull},
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), append([]string{"lookup", "x.test"}, args...), &out, &errb)
		var ee exitError
		if !errors.As(err, &ee) || ee.code != exitUsage {
			t.Errorf("%q: %v, want exit %d", args, err, exitUsage)
		}
	}
}
