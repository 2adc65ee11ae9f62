package lab

import (
	"context"
	"errors"
	"net/netip"
	"sort"
	"strings"
	"syscall"
	"testing"
	"testing/fstest"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/server"
)

func newLab(t testing.TB, opt Options) *Lab {
	t.Helper()
	l, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// The servers come from the zones' own NS and A records; this is the map
// the README shows.
func TestEmbeddedServers(t *testing.T) {
	l := newLab(t, Options{})
	want := []struct{ names, addr, zones string }{
		{"a.root-servers.test.", "127.53.0.1:53", "."},
		{"b.root-servers.test.", "127.53.0.2:53", "."},
		{"a.arpa-servers.test.", "127.53.0.3:53", "arpa. in-addr.arpa. ip6.arpa."},
		{"a.gtld-servers.test.", "127.53.0.4:53", "com. net. org."},
		{"b.gtld-servers.test.", "127.53.0.5:53", "com. net. org."},
		{"a.nic.test.", "127.53.0.6:53", "test."},
		{"ns1.example.com.", "127.53.0.7:53", "example.com. 113.0.203.in-addr.arpa."},
		{"ns1.example.net.", "127.53.0.8:53", "example.net. example.org. 100.51.198.in-addr.arpa. 2.0.192.in-addr.arpa. 8.b.d.0.1.0.0.2.ip6.arpa."},
		{"ns1.secure.example.com.", "127.53.0.9:53", "secure.example.com."},
	}
	got := l.Servers()
	if len(got) != len(want) {
		t.Fatalf("%d servers, want %d: %+v", len(got), len(want), got)
	}
	for i, w := range want {
		g := got[i]
		if strings.Join(g.Names, " ") != w.names || g.Addr.String() != w.addr || strings.Join(g.Zones, " ") != w.zones {
			t.Errorf("server %d: got %v %v %v, want %s %s %s", i, g.Names, g.Addr, g.Zones, w.names, w.addr, w.zones)
		}
		if !isDocumentation(g.Authored) {
			t.Errorf("server %s: authored address %s is not a documentation address", g.Name(), g.Authored)
		}
	}
	hints := l.RootHints()
	if len(hints) != 4 || hints[2].(*dns.A).A.String() != "127.53.0.1" {
		t.Errorf("root hints: %v", hints)
	}
}

// isDocumentation reports whether a is in RFC 5737's or RFC 3849's ranges.
func isDocumentation(a netip.Addr) bool {
	for _, p := range []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"} {
		if netip.MustParsePrefix(p).Contains(a) {
			return true
		}
	}
	return false
}

// Every address in the embedded zones is a documentation address: nothing
// in the lab can be mistaken for, or leak to, the internet.
func TestEmbeddedAddressesAreDocumentation(t *testing.T) {
	h, err := loadHierarchy(Zones())
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, origin := range h.origins {
		for _, rr := range h.records[origin] {
			var ip netip.Addr
			switch v := rr.(type) {
			case *dns.A:
				ip, _ = netip.AddrFromSlice(v.A.To4())
			case *dns.AAAA:
				ip, _ = netip.AddrFromSlice(v.AAAA)
			default:
				continue
			}
			n++
			if !isDocumentation(ip) {
				t.Errorf("%s: %s", h.file(origin), rr)
			}
		}
	}
	if n < 20 {
		t.Fatalf("only %d addresses checked", n)
	}
}

// As served, server addresses are loopback and server AAAA records are gone;
// other hosts keep their documentation addresses.
func TestServedRewrite(t *testing.T) {
	l := newLab(t, Options{ListenBase: netip.MustParseAddr("127.99.0.0"), Port: 5300})
	var glue, aaaa, www int
	for _, rr := range l.h.served(".") {
		switch v := rr.(type) {
		case *dns.A:
			if !strings.HasPrefix(v.A.String(), "127.99.0.") {
				t.Errorf("root glue not rewritten: %s", rr)
			}
			glue++
		case *dns.AAAA:
			aaaa++
		}
	}
	for _, rr := range l.h.served("example.com.") {
		if a, ok := rr.(*dns.A); ok && a.Hdr.Name == "www.example.com." && a.A.String() == "203.0.113.10" {
			www++
		}
	}
	if glue != 6 || aaaa != 0 || www != 1 {
		t.Fatalf("root zone served with %d A glue (want 6), %d AAAA (want 0); www kept: %d", glue, aaaa, www)
	}
	if got := l.RootAddrs(); len(got) != 2 || got[0].String() != "127.99.0.1:5300" {
		t.Fatalf("root addrs %v", got)
	}
}

// Walking the in-memory network from the root proves the hierarchy is wired
// by referral alone: every name resolves, through the zones listed.
func TestWalkInMemory(t *testing.T) {
	l := newLab(t, Options{})
	tests := []struct {
		name, qname string
		qtype       uint16
		want        string // final records, sorted, "type data" each
		rcode       int
		via         string // the zones referred to, in order
	}{
		{"forward", "www.example.com.", dns.TypeA, "A 203.0.113.10", 0, "com. example.com."},
		{"aaaa", "www.example.com.", dns.TypeAAAA, "AAAA 2001:db8:113::10", 0, "com. example.com."},
		{"mx", "example.com.", dns.TypeMX, "MX 10 mail.example.com.|MX 20 mail.example.net.", 0, "com. example.com."},
		{"wildcard", "alice.users.example.com.", dns.TypeA, "A 203.0.113.80", 0, "com. example.com."},
		{"ds cut", "www.secure.example.com.", dns.TypeA, "A 203.0.113.55", 0, "com. example.com. secure.example.com."},
		{"glueless", "example.org.", dns.TypeTXT, `TXT "served by ns1.example.net through a glueless delegation"`, 0, "org. example.org. net. example.net."},
		{"cname across zones", "shop.example.net.", dns.TypeA,
			"A 203.0.113.10|CNAME www.example.com.|CNAME www.example.org.", 0,
			"net. example.net. org. example.org. net. example.net. com. example.com."},
		{"reverse v4", "10.113.0.203.in-addr.arpa.", dns.TypePTR, "PTR www.example.com.", 0,
			"arpa. 113.0.203.in-addr.arpa. com. example.com."},
		{"reverse v6", "0.1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.3.1.1.0.8.b.d.0.1.0.0.2.ip6.arpa.", dns.TypePTR,
			"PTR www.example.com.", 0, "arpa. 8.b.d.0.1.0.0.2.ip6.arpa. net. example.net."},
		{"infrastructure", "a.root-servers.test.", dns.TypeA, "A 127.53.0.1", 0, "test."},
		{"nxdomain", "nope.example.com.", dns.TypeA, "", dns.RcodeNameError, "com. example.com."},
		{"large rrset over tcp", "big.example.com.", dns.TypeTXT, "", 0, "com. example.com."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, steps, err := walk(context.Background(), l.Network(), l.RootAddrs(), tt.qname, tt.qtype)
			if err != nil {
				t.Fatalf("%v (steps %v)", err, steps)
			}
			if resp.Rcode != tt.rcode {
				t.Fatalf("rcode %s, want %s", dns.RcodeToString[resp.Rcode], dns.RcodeToString[tt.rcode])
			}
			if got := referrals(steps); got != tt.via {
				t.Errorf("referred via %q, want %q", got, tt.via)
			}
			if tt.name == "large rrset over tcp" {
				if len(resp.Answer) != 16 {
					t.Fatalf("big TXT: %d records, want 16", len(resp.Answer))
				}
				return
			}
			if got := answerText(resp.Answer); got != tt.want {
				t.Errorf("answer %q, want %q", got, tt.want)
			}
		})
	}
}

func referrals(steps []step) string {
	var out []string
	for _, s := range steps {
		if z, ok := strings.CutPrefix(s.Kind, "referral to "); ok {
			out = append(out, z)
		}
	}
	return strings.Join(out, " ")
}

func answerText(rrs []dns.RR) string {
	var out []string
	for _, rr := range rrs {
		f := strings.Fields(rr.String())
		out = append(out, strings.Join(f[3:], " "))
	}
	sort.Strings(out)
	return strings.Join(out, "|")
}

func query(name string, qtype uint16) *dns.Msg {
	q := new(dns.Msg)
	q.SetQuestion(name, qtype)
	q.RecursionDesired = false
	return q
}

// Each fault changes what the in-memory network returns, as documented on
// the Fault constants.
func TestFaultsInMemory(t *testing.T) {
	l := newLab(t, Options{SlowDelay: 30 * time.Millisecond})
	ctx := context.Background()
	ns1 := l.Servers()[6].Addr // ns1.example.com
	tests := []struct {
		fault Fault
		check func(t *testing.T, r *dns.Msg, err error, took time.Duration)
	}{
		{None, func(t *testing.T, r *dns.Msg, err error, _ time.Duration) {
			if err != nil || len(r.Answer) != 1 || !r.Authoritative {
				t.Fatalf("healthy: %v %v", r, err)
			}
		}},
		{Lame, func(t *testing.T, r *dns.Msg, err error, _ time.Duration) {
			if err != nil || r.Rcode != dns.RcodeRefused || r.Authoritative || len(r.Question) != 1 {
				t.Fatalf("lame: want REFUSED with the question, got %v %v", r, err)
			}
		}},
		{Slow, func(t *testing.T, r *dns.Msg, err error, took time.Duration) {
			if err != nil || len(r.Answer) != 1 || took < 30*time.Millisecond {
				t.Fatalf("slow: answer after %v (want >= 30ms): %v %v", took, r, err)
			}
		}},
		{Drop, func(t *testing.T, r *dns.Msg, err error, _ time.Duration) {
			var te interface{ Timeout() bool }
			if r != nil || !errors.Is(err, ErrDropped) || !errors.As(err, &te) || !te.Timeout() {
				t.Fatalf("drop: want a timeout error, got %v %v", r, err)
			}
		}},
		{Down, func(t *testing.T, r *dns.Msg, err error, _ time.Duration) {
			if r != nil || !errors.Is(err, syscall.ECONNREFUSED) {
				t.Fatalf("down: want connection refused, got %v %v", r, err)
			}
		}},
		{Truncate, func(t *testing.T, r *dns.Msg, err error, _ time.Duration) {
			// The Network retries over TCP, where the answer is whole.
			if err != nil || r.Truncated || len(r.Answer) != 1 {
				t.Fatalf("truncate: want the TCP answer, got %v %v", r, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fault.String(), func(t *testing.T) {
			if err := l.setFault("ns1.example.com", tt.fault); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r, err := l.Network().Exchange(ctx, ns1, query("www.example.com.", dns.TypeA))
			tt.check(t, r, err, time.Since(start))
		})
	}
}

// A forced truncation answers UDP with TC and no records, TCP normally.
func TestTruncateHandler(t *testing.T) {
	l := newLab(t, Options{Faults: []FaultSpec{{Truncate, "203.0.113.53"}}})
	s := l.find("ns1.example.com.")
	w, _ := query("www.example.com.", dns.TypeA).Pack()
	for _, proto := range []struct {
		p    server.Proto
		tc   bool
		nans int
	}{{server.UDP, true, 0}, {server.TCP, false, 1}} {
		r := serveProto(t, s, w, proto.p)
		if r.Truncated != proto.tc || len(r.Answer) != proto.nans {
			t.Errorf("%v: TC=%v answers=%d, want TC=%v answers=%d", proto.p, r.Truncated, len(r.Answer), proto.tc, proto.nans)
		}
	}
}

// Broken hierarchies are refused with an error that names the problem.
func TestLoadHierarchyErrors(t *testing.T) {
	root := "$ORIGIN .\n$TTL 60\n@ SOA a.root. h. 1 2 3 4 5\n@ NS a.root.\n"
	tests := []struct {
		name  string
		files fstest.MapFS
		want  string
	}{
		{"no root", fstest.MapFS{"com.zone": file("$ORIGIN com.\n@ 60 SOA a. b. 1 2 3 4 5\n@ 60 NS a.\n")}, "no root.zone"},
		{"ns without address", fstest.MapFS{"root.zone": file(root)}, "has no A record"},
		{"two addresses", fstest.MapFS{"root.zone": file(root + "a.root. A 192.0.2.1\na.root. A 192.0.2.2\n")}, "2 different IPv4"},
		{"no apex ns", fstest.MapFS{"root.zone": file("$ORIGIN .\n$TTL 60\n@ SOA a.root. h. 1 2 3 4 5\n")}, "no NS records"},
		{"syntax", fstest.MapFS{"root.zone": file(root + "a.root. A not-an-address\n")}, "root.zone"},
		{"outside", fstest.MapFS{"root.zone": file(root), "com.zone": file("$ORIGIN com.\n$TTL 60\n@ SOA a. b. 1 2 3 4 5\nwww.org. A 192.0.2.9\n")}, "www.org. is outside the zone com."},
		{"bad file name", fstest.MapFS{"root.zone": file(root), "com..zone": file("")}, "trailing dot"},
		{"include", fstest.MapFS{"root.zone": file(root + "$INCLUDE /etc/passwd\n")}, "root.zone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadHierarchy(tt.files)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func file(s string) *fstest.MapFile { return &fstest.MapFile{Data: []byte(s)} }

func TestParseFaultSpec(t *testing.T) {
	tests := []struct {
		in      string
		want    FaultSpec
		wantErr bool
	}{
		{"lame", FaultSpec{Lame, "a.gtld-servers.test."}, false},
		{"SLOW", FaultSpec{Slow, "a.root-servers.test."}, false},
		{"drop=ns1.example.net", FaultSpec{Drop, "ns1.example.net"}, false},
		{"truncate = 192.0.2.1", FaultSpec{Truncate, "192.0.2.1"}, false},
		{"down", FaultSpec{Down, "ns1.example.com."}, false},
		{"none", FaultSpec{}, true},
		{"fire", FaultSpec{}, true},
		{"", FaultSpec{}, true},
	}
	for _, tt := range tests {
		got, err := ParseFaultSpec(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseFaultSpec(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
	l := newLab(t, Options{})
	if err := l.setFault("ns9.example.com", Lame); err == nil || !strings.Contains(err.Error(), "a.root-servers.test.") {
		t.Fatalf("unknown server: %v", err)
	}
}

func serveProto(t *testing.T, s *labServer, w []byte, p server.Proto) *dns.Msg {
	t.Helper()
	req := &server.Request{Wire: w, Remote: netip.MustParseAddrPort("127.0.0.1:5353"), Proto: p}
	out := s.handler.ServeDNS(context.Background(), req, make([]byte, 0, 65535))
	if out == nil {
		t.Fatal("no reply")
	}
	r := new(dns.Msg)
	if err := r.Unpack(out); err != nil {
		t.Fatal(err)
	}
	return r
}
