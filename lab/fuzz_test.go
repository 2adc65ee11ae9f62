package lab

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/miekg/dns"
)

// FuzzErrorReply: the fault replies are built from raw query bytes; any
// input must give no reply or a reply that parses, with QR set.
func FuzzErrorReply(f *testing.F) {
	w, _ := query("www.example.com.", dns.TypeA).Pack()
	f.Add(w)
	f.Add(w[:13])
	f.Add([]byte{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1})
	f.Fuzz(func(t *testing.T, w []byte) {
		for _, tc := range []bool{false, true} {
			out := errorReply(w, make([]byte, 0, 512), rcodeRefused, tc)
			if out == nil {
				continue
			}
			r := new(dns.Msg)
			if err := r.Unpack(out); err != nil {
				t.Fatalf("reply to %x does not parse: %v", w, err)
			}
			extra := len(r.Extra)
			if r.IsEdns0() != nil {
				extra-- // the query's EDNS answered with ours (RFC 6891 7)
			}
			if !r.Response || r.Truncated != tc || len(r.Answer)+len(r.Ns)+extra != 0 {
				t.Fatalf("bad reply %v", r)
			}
		}
	})
}

// FuzzOriginOf: file names never panic and accepted ones are domain names.
func FuzzOriginOf(f *testing.F) {
	for _, s := range []string{"root.zone", "example.com.zone", "a..zone", ".zone", "x.txt", "a b.zone"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := originOf(s)
		if err != nil || o == "" {
			return
		}
		if _, ok := dns.IsDomainName(o); !ok || !dns.IsFqdn(o) {
			t.Fatalf("%q -> origin %q", s, o)
		}
	})
}

func FuzzParseFaultSpec(f *testing.F) {
	for _, s := range []string{"lame", "drop=ns1.example.com", "x=y=z", "=", "down="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fs, err := ParseFaultSpec(s)
		if err == nil && (fs.Fault == None || fs.Fault >= numFaults || fs.Server == "") {
			t.Fatalf("%q -> %+v", s, fs)
		}
	})
}

// FuzzHierarchy: any root zone text either builds a lab or is an error.
func FuzzHierarchy(f *testing.F) {
	b, _ := Zones().(interface{ ReadFile(string) ([]byte, error) }).ReadFile(RootFile)
	f.Add(string(b))
	f.Add("@ 60 SOA a. b. 1 2 3 4 5\n@ 60 NS a.\na. 60 A 192.0.2.1\n")
	f.Add("@ 60 NS a.\na. 60 A 192.0.2.1\n")
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 1<<16 {
			return
		}
		l, err := New(Options{Zones: fstest.MapFS{RootFile: file(text)}})
		if err != nil {
			return
		}
		for _, s := range l.Servers() {
			if !strings.HasPrefix(s.Addr.Addr().String(), "127.53.0.") {
				t.Fatalf("server %v not on loopback", s)
			}
		}
	})
}
