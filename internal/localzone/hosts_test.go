package localzone

import (
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

func TestParseHosts(t *testing.T) {
	in := `# a comment
127.0.0.1	localhost
192.168.1.10 nas.lan nas   # trailing comment
::1 localhost ip6-localhost
::ffff:10.0.0.5 mapped.lan

fd00::7 Printer.LAN.
`
	rrs, err := ParseHosts(strings.NewReader(in), "hosts")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, rr := range rrs {
		got = append(got, strings.ReplaceAll(rr.String(), "\t", " "))
	}
	want := []string{
		"localhost. 3600 IN A 127.0.0.1",
		"1.0.0.127.in-addr.arpa. 3600 IN PTR localhost.",
		"nas.lan. 3600 IN A 192.168.1.10",
		"10.1.168.192.in-addr.arpa. 3600 IN PTR nas.lan.",
		"nas. 3600 IN A 192.168.1.10",
		"localhost. 3600 IN AAAA ::1",
		"1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa. 3600 IN PTR localhost.",
		"ip6-localhost. 3600 IN AAAA ::1",
		"mapped.lan. 3600 IN A 10.0.0.5",
		"5.0.0.10.in-addr.arpa. 3600 IN PTR mapped.lan.",
		"printer.lan. 3600 IN AAAA fd00::7",
		"7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 3600 IN PTR printer.lan.",
	}
	if !slices.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// Served: names forward, addresses back, through the built-in zones.
	s, err := New(nil, rrs)
	if err != nil {
		t.Fatal(err)
	}
	if a := s.Lookup("10.1.168.192.in-addr.arpa.", dns.TypePTR); len(a.Answer) != 1 {
		t.Errorf("PTR: %v", a)
	}
	if a := s.Lookup("nas.lan.", dns.TypeA); len(a.Answer) != 1 {
		t.Errorf("A: %v", a)
	}
	if a := s.Lookup("nas.lan.", dns.TypeMX); a.Action != Reply || a.Rcode != dns.RcodeSuccess || len(a.Answer) != 0 {
		t.Errorf("MX of a hosts name: %v (want NODATA)", a)
	}
	if a := s.Lookup("www.example.com.", dns.TypeA); a.Action != Resolve {
		t.Errorf("other names: %v", a)
	}
}

func TestParseHostsErrors(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"127.0.0.1\n", "hosts:1: address \"127.0.0.1\" without a name"},
		{"\n\n300.1.1.1 x\n", "hosts:3: \"300.1.1.1\" is not an IP address"},
		{"fe80::1%eth0 x\n", "hosts:1: \"fe80::1%eth0\" is not an IP address"},
		{"1.2.3.4 a..b\n", "hosts:1: \"a..b\" is not a host name"},
		{"1.2.3.4 " + strings.Repeat("a", 64) + "\n", "is not a host name"},
		{"1.2.3.4 " + strings.Repeat("x", maxHostsLine) + "\n", "token too long"},
	} {
		_, err := ParseHosts(strings.NewReader(tc.in), "hosts")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%.40q: err %v, want %q", tc.in, err, tc.want)
		}
	}
}

func FuzzParseHosts(f *testing.F) {
	f.Add("127.0.0.1 localhost\n::1 localhost ip6-localhost # c\n")
	f.Add("192.168.1.1 a.b c\n\n# x\n10.0.0.1\tq\n")
	f.Fuzz(func(t *testing.T, in string) {
		rrs, err := ParseHosts(strings.NewReader(in), "fuzz")
		if err != nil {
			return
		}
		for _, rr := range rrs {
			// Every record must survive the wire: the server packs them.
			buf := make([]byte, 1024)
			if _, err := dns.PackRR(rr, buf, 0, nil, false); err != nil {
				t.Fatalf("%v does not pack: %v", rr, err)
			}
		}
		if _, err := New(nil, rrs); err != nil {
			t.Fatalf("New: %v", err)
		}
	})
}
