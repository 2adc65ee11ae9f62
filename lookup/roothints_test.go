package lookup

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func serversOf(h *RootHints) string {
	var b []string
	for _, s := range h.Servers {
		b = append(b, s.Name+"="+s.Addr.String())
	}
	return strings.Join(b, " ")
}

func TestParseRootHints(t *testing.T) {
	// Addresses are ordered by NS record, whatever their order in the
	// file; a name listed twice is asked once; other names are ignored.
	text := `. 3600 NS B.root.
. 3600 NS a.root.
. 3600 NS b.root.
a.root. 3600 A 192.0.2.1
b.root. 3600 AAAA 2001:db8::2
other. 3600 A 192.0.2.9
b.root. 3600 A 192.0.2.2
`
	h, err := ParseRootHints(strings.NewReader(text), "test")
	if err != nil {
		t.Fatal(err)
	}
	want := "b.root.=[2001:db8::2]:53 b.root.=192.0.2.2:53 a.root.=192.0.2.1:53"
	if got := serversOf(h); got != want || len(h.NS) != 3 {
		t.Errorf("servers %s (%d NS), want %s", got, len(h.NS), want)
	}
	for _, bad := range []string{"", ". 3600 NS a.root.\n", "$INCLUDE /etc/passwd\n", strings.Repeat("x. 1 A 192.0.2.1\n", 1001)} {
		if _, err := ParseRootHints(strings.NewReader(bad), "bad"); err == nil {
			t.Errorf("%.40q: no error", bad)
		}
	}
	iana := IANARootHints()
	if len(iana.NS) != 13 || len(iana.Servers) != 26 || iana.Servers[0].Name != "a.root-servers.net." ||
		iana.Servers[0].Addr.String() != "198.41.0.4:53" {
		t.Errorf("IANA hints: %d NS, servers %s", len(iana.NS), serversOf(iana))
	}
}

func TestRootHintsFromReply(t *testing.T) {
	server := netip.MustParseAddrPort("127.0.0.7:5300")
	r := new(dns.Msg)
	r.Answer = rrs(t, ". 60 IN NS a.root.", ". 60 IN NS b.root.", "x. 60 IN NS a.root.")
	r.Extra = rrs(t, "a.root. 60 IN A 127.0.0.8", "a.root. 60 IN AAAA ::1")
	h, err := RootHintsFromReply(r, server)
	if err != nil {
		t.Fatal(err)
	}
	// b.root has no address in the reply: it is the server asked.
	want := "a.root.=127.0.0.8:5300 a.root.=[::1]:5300 b.root.=127.0.0.7:5300"
	if got := serversOf(h); got != want || len(h.NS) != 2 {
		t.Errorf("servers %s (%d NS), want %s", got, len(h.NS), want)
	}
	if _, err := RootHintsFromReply(new(dns.Msg), server); !errors.Is(err, ErrNoRootServers) {
		t.Errorf("empty reply: %v", err)
	}
}

// FuzzParseRootHints: hints of any content load or fail cleanly, and
// loaded hints have a server to ask.
func FuzzParseRootHints(f *testing.F) {
	var iana strings.Builder
	h := IANARootHints()
	for _, ns := range h.NS {
		iana.WriteString(ns.String() + "\n")
	}
	for _, s := range h.Servers {
		t := "A"
		if s.Addr.Addr().Is6() {
			t = "AAAA"
		}
		fmt.Fprintf(&iana, "%s 3600 IN %s %s\n", s.Name, t, s.Addr.Addr())
	}
	f.Add(iana.String())
	f.Add(". NS a.\na. A 127.0.0.1\n")
	f.Add("$INCLUDE /etc/passwd\n")
	f.Fuzz(func(t *testing.T, text string) {
		h, err := ParseRootHints(strings.NewReader(text), "fuzz")
		if err == nil && len(h.Servers) == 0 {
			t.Fatal("no error and no servers")
		}
	})
}
