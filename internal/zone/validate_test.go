package zone

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// head is a valid apex every fixture starts from.
const head = `$ORIGIN example.
$TTL 300
@	SOA	ns hostmaster 1 3600 600 86400 300
	NS	ns
ns	A	192.0.2.1
`

func TestLoadRules(t *testing.T) {
	tests := []struct {
		name string
		text string
		errs []string // substrings of the expected errors, in order
		warn []string // substrings of the expected warnings, in order
	}{
		{name: "good minimal", text: head},
		{name: "no SOA", text: "$ORIGIN example.\n@ 300 NS ns\nns 300 A 192.0.2.1\n", errs: []string{"no SOA"}},
		{name: "two SOA", text: head + "@ SOA ns h 2 3600 600 86400 300\n", errs: []string{"more than one SOA"}},
		{name: "same SOA twice is a duplicate", text: head + "@ SOA ns hostmaster 1 3600 600 86400 300\n", warn: []string{"duplicate record"}},
		{name: "SOA below apex", text: head + "sub SOA ns h 2 3600 600 86400 300\n", errs: []string{"SOA at sub.example., which is not the zone apex"}},
		{name: "no NS at apex", text: "$ORIGIN example.\n@ 300 SOA ns h 1 1 1 1 1\nns 300 A 192.0.2.1\n", errs: []string{"no NS records"}},
		{name: "CNAME and A", text: head + "www A 192.0.2.2\nwww CNAME ns\n", errs: []string{"example.zone:7: CNAME and other data at www.example."}},
		{name: "CNAME with RRSIG and NSEC", text: head + "www CNAME ns\nwww NSEC ns CNAME RRSIG NSEC\nwww RRSIG CNAME 8 2 300 20300101000000 20200101000000 1 example. AAAA\n"},
		{name: "two CNAMEs", text: head + "www CNAME ns\nwww CNAME ns2\n", errs: []string{"more than one CNAME at www.example."}},
		{name: "CNAME at apex", text: head + "@ CNAME other.test.\n", errs: []string{"CNAME and other data at example."}},
		{name: "two DNAMEs", text: head + "d DNAME a.test.\nd DNAME b.test.\n", errs: []string{"more than one DNAME at d.example."}},
		{name: "data below DNAME", text: head + "d DNAME a.test.\nx.d A 192.0.2.3\n", warn: []string{"x.d.example. is occluded by the DNAME at d.example."}},
		{name: "out of zone", text: head + "www.other. A 192.0.2.2\n", errs: []string{"www.other. is outside the zone example."}},
		{name: "class CH", text: head + "www CH A 192.0.2.2\n", errs: []string{"class CH, only IN"}},
		{name: "label too long", text: head + strings.Repeat("a", 64) + " A 192.0.2.2\n", errs: []string{"is not a valid owner name"}},
		{name: "name too long", text: head + strings.Repeat("abcdefghi.", 25) + "test A 192.0.2.2\n", errs: []string{"is not a valid domain name"}},
		{name: "TTL top bit", text: head + "www 2147483648 A 192.0.2.2\n", errs: []string{"TTL 2147483648 exceeds 2147483647"}},
		{name: "TTL max ok", text: head + "www 2147483647 A 192.0.2.2\n"},
		{name: "$TTL top bit", text: "$TTL 3000000000\n" + head, errs: []string{"$TTL: TTL \"3000000000\" exceeds"}},
		{name: "glue missing", text: head + "sub NS ns.sub\n", errs: []string{"NS ns.sub.example. at sub.example. has no glue"}},
		{name: "glue present", text: head + "sub NS ns.sub\nns.sub AAAA 2001:db8::1\n"},
		{name: "NS at the cut itself needs glue", text: head + "sub NS sub\n", errs: []string{"NS sub.example. at sub.example. has no glue"}},
		{name: "sibling glue missing", text: head + "a NS ns.b\nb NS ns.b\n", errs: []string{"NS ns.b.example. at a.example. has no glue", "NS ns.b.example. at b.example. has no glue"}},
		{name: "out-of-zone NS target needs no glue", text: head + "sub NS ns.other.test.\n"},
		{name: "occluded below cut", text: head + "sub NS ns.other.test.\nx.sub TXT hidden\n", warn: []string{"x.sub.example. TXT is occluded by the delegation at sub.example."}},
		{name: "occluded at cut", text: head + "sub NS ns.other.test.\nsub TXT hidden\n", warn: []string{"sub.example. TXT is occluded by the delegation at sub.example."}},
		{name: "occluded NS needs no glue", text: head + "sub NS ns.other.test.\nx.sub NS ns.x.sub\n", warn: []string{"x.sub.example. NS is occluded"}},
		{name: "DS at cut", text: head + "sub NS ns.other.test.\nsub DS 1 8 2 " + strings.Repeat("AB", 32) + "\n"},
		{name: "DS at apex", text: head + "@ DS 1 8 2 " + strings.Repeat("AB", 32) + "\n", errs: []string{"DS at the zone apex"}},
		{name: "DS not at cut", text: head + "x DS 1 8 2 " + strings.Repeat("AB", 32) + "\n", errs: []string{"DS at x.example., which is not a delegation point"}},
		{name: "duplicate dropped", text: head + "www A 192.0.2.2\nwww A 192.0.2.2\n", warn: []string{"example.zone:7: warning: duplicate record www.example. A ignored"}},
		{name: "TTLs differ", text: head + "www 10 A 192.0.2.2\nwww 20 A 192.0.2.3\n", warn: []string{"TTLs differ"}},
		{name: "missing rdata", text: head + "www A\n", errs: []string{"www.example. A record has no RDATA"}},
		{name: "missing rdata after class", text: head + "www 300 IN A\n", errs: []string{"has no RDATA"}},
		{name: "missing rdata blank owner", text: head + "www TXT x\n  IN AAAA ; nothing\n", errs: []string{":7: AAAA record: the address is missing"}},
		{name: "bad rdata continues", text: head + "www A 300.1.1.1\nwww2 MX x\nwww3 A 192.0.2.9\nwww3 CNAME ns\n", errs: []string{":6: 300.1.1.1 is not an IPv4 address", ":7: x is not a number (the MX preference)", "CNAME and other data at www3"}},
		{name: "unknown type RFC 3597", text: head + "x TYPE65300 \\# 3 010203\n"},
		{name: "known type as RFC 3597", text: head + "x TYPE1 \\# 4 C0000202\n"},
		{name: "unbalanced parens", text: head + "www TXT ( \"a\"\n", errs: []string{"unbalanced parentheses"}},
		{name: "multi-line record line numbers", text: head + "www TXT (\n  \"a\"\n  \"b\" )\nbad A x\n", errs: []string{"example.zone:9: x is not an IPv4 address"}},
		{name: "blank owner inherits", text: head + "www A 192.0.2.2\n\tCNAME ns\n", errs: []string{"CNAME and other data at www.example."}},
		{name: "include refused by default", text: head + "$INCLUDE other.zone\n", errs: []string{"$INCLUDE is not allowed"}},
		{name: "unknown directive", text: head + "$FOO bar\n", errs: []string{"unknown directive $FOO"}},
		{name: "relative origin", text: "$ORIGIN example.\n$ORIGIN sub\n@ 300 SOA ns h 1 1 1 1 1\n", errs: []string{"has no NS records", "has no SOA record", "SOA at sub.example., which is not the zone apex"}},
		{name: "$TTL units", text: "$TTL 1h30m\n" + head},
		{name: "generate", text: head + "$GENERATE 1-10 host$ A 192.0.2.$\n"},
		{name: "generate bad range", text: head + "$GENERATE 10-1 host$ A 192.0.2.$\n", errs: []string{":6: "}},
		{name: "NSEC3 padded next", text: head + "0p9mhaveqvm6t7vbl5lop2u3t2rp3tom NSEC3 1 1 12 aabbccdd CPNMU=== A\n", errs: []string{"next hashed owner is not unpadded"}},
		{name: "SVCB mandatory missing", text: head + "s SVCB 1 . mandatory=alpn port=53\n", errs: []string{"mandatory key alpn is missing"}},
		{name: "SVCB mandatory present", text: head + "s SVCB 1 . mandatory=alpn alpn=h2\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, problems, err := LoadFS(fstestMap(tc.text), "example.zone", "example.", Options{})
			var errs, warns []string
			for _, p := range problems {
				if p.Warning {
					warns = append(warns, p.String())
				} else {
					errs = append(errs, p.String())
				}
			}
			if (err != nil) != (len(tc.errs) > 0) {
				t.Fatalf("err = %v, want error: %v\nproblems: %q", err, len(tc.errs) > 0, problems)
			}
			matchAll(t, "errors", errs, tc.errs)
			matchAll(t, "warnings", warns, tc.warn)
		})
	}
}

// matchAll wants got to hold exactly one problem per wanted substring, in
// order.
func matchAll(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d %q, want %d matching %q", what, len(got), got, len(want), want)
	}
	for i := range want {
		if !strings.Contains(got[i], want[i]) {
			t.Errorf("%s[%d] = %q, want it to contain %q", what, i, got[i], want[i])
		}
	}
}

func TestProblemString(t *testing.T) {
	for _, tc := range []struct {
		p    Problem
		want string
	}{
		{Problem{File: "a.zone", Line: 12, Msg: "CNAME and other data at www.example."}, "a.zone:12: CNAME and other data at www.example."},
		{Problem{File: "a.zone", Msg: "no SOA"}, "a.zone: no SOA"},
		{Problem{File: "a.zone", Line: 3, Msg: "dup", Warning: true}, "a.zone:3: warning: dup"},
		{Problem{Msg: "bare"}, "bare"},
	} {
		if got := tc.p.String(); got != tc.want {
			t.Errorf("%+v: got %q, want %q", tc.p, got, tc.want)
		}
	}
}

func TestIncludeConfined(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	write := func(p, s string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(outside, "secret.zone"), "leak A 192.0.2.66\n")
	write(filepath.Join(dir, "sub", "hosts.zone"), "www A 192.0.2.7\n")
	if err := os.Symlink(filepath.Join(outside, "secret.zone"), filepath.Join(dir, "link.zone")); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, line string
		allow      bool
		wantErr    string
		wantRR     int
	}{
		{"off by default", "$INCLUDE sub/hosts.zone", false, "not allowed", 0},
		{"inside", "$INCLUDE sub/hosts.zone", true, "", 4},
		{"inside with origin", "$INCLUDE sub/hosts.zone sub.example.", true, "", 4},
		{"dotdot", "$INCLUDE ../" + filepath.Base(outside) + "/secret.zone", true, "leaves the zone's folder", 0},
		{"absolute", "$INCLUDE " + filepath.Join(outside, "secret.zone"), true, "absolute paths are refused", 0},
		{"symlink out", "$INCLUDE link.zone", true, "$INCLUDE \"link.zone\"", 0},
		{"missing", "$INCLUDE nope.zone", true, "$INCLUDE \"nope.zone\"", 0},
		{"self loop bounded", "$INCLUDE main.zone", true, "nested deeper", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			main := filepath.Join(dir, "main.zone")
			write(main, head+tc.line+"\n")
			z, problems, err := Load(main, "example.", Options{AllowInclude: tc.allow})
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				if z.Records != tc.wantRR {
					t.Errorf("records = %d, want %d", z.Records, tc.wantRR)
				}
				return
			}
			if err == nil {
				t.Fatalf("Load succeeded, want error %q", tc.wantErr)
			}
			found := false
			for _, p := range problems {
				found = found || strings.Contains(p.Msg, tc.wantErr)
			}
			if !found {
				t.Errorf("problems %q lack %q", problems, tc.wantErr)
			}
		})
	}
}

func TestDetectOrigin(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"$ORIGIN Example.COM.\n@ SOA a b 1 1 1 1 1\n", "example.com."},
		{"; c\n\nexample.net. 300 IN SOA a b 1 1 1 1 1\n", "example.net."},
		{"@ SOA a b 1 1 1 1 1\n", ""},
		{"", ""},
	} {
		if got := DetectOrigin([]byte(tc.text)); got != tc.want {
			t.Errorf("DetectOrigin(%q) = %q, want %q", tc.text, got, tc.want)
		}
	}
}
