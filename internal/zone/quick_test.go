package zone

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// parseGear parses text as Load does, with or without the quick parser,
// and reports how many records the quick parser built.
func parseGear(text, origin, file string, noQuick bool) (entries []Entry, problems []Problem, quickN int) {
	p := newParser(nil, Options{})
	p.noQuick = noQuick
	p.parse(strings.NewReader(text), origin, file, filepath.Base(file), 0)
	return p.recs.entries(), p.problems, p.quickN
}

// sameRR reports how a differs from b, which miekg/dns read: "" when they
// are the same record (dns.IsDuplicate), with the same owner spelling
// (case included), TTL, class, type and presentation form.
func sameRR(a, b dns.RR) string {
	ha, hb := a.Header(), b.Header()
	switch {
	case ha.Name != hb.Name:
		return fmt.Sprintf("owner %q, miekg/dns %q", ha.Name, hb.Name)
	case ha.Ttl != hb.Ttl || ha.Class != hb.Class || ha.Rrtype != hb.Rrtype || ha.Rdlength != hb.Rdlength:
		return fmt.Sprintf("header %+v, miekg/dns %+v", *ha, *hb)
	case dns.IsDuplicate(b, b) && !dns.IsDuplicate(a, b):
		// (Some SVCB records miekg/dns reads are not duplicates of
		// themselves; their presentation form is compared below.)
		return "not a duplicate of miekg/dns's record"
	case a.String() != b.String():
		return fmt.Sprintf("%s, miekg/dns %s", a, b)
	}
	return ""
}

// sameGears fails t unless parsing with the quick parser gives the records
// (and problems) of parsing with miekg/dns alone; it returns how many
// records the quick parser built.
func sameGears(t *testing.T, text, origin, file string) int {
	t.Helper()
	qe, qp, n := parseGear(text, origin, file, false)
	me, mp, _ := parseGear(text, origin, file, true)
	if len(qe) != len(me) {
		t.Errorf("%s: %d entries with the quick parser, %d without", file, len(qe), len(me))
		return n
	}
	for i := range qe {
		if d := sameRR(qe[i].RR, me[i].RR); d != "" || qe[i].Line != me[i].Line || qe[i].File != me[i].File {
			t.Errorf("%s:%d: entry %d: %s (lines %d, %d)", file, qe[i].Line, i, d, qe[i].Line, me[i].Line)
			return n
		}
	}
	if fmt.Sprint(qp) != fmt.Sprint(mp) {
		t.Errorf("%s: problems differ:\nquick %q\nmiekg %q", file, qp, mp)
	}
	return n
}

func TestQuickCases(t *testing.T) {
	long63 := strings.Repeat("a", 63)
	tests := []struct {
		name  string
		text  string
		quick int // records the quick parser must build
	}{
		{"every type", "$ORIGIN example.\n$TTL 300\n@ IN SOA ns.example. h.example. 2024 7200 3600 1209600 60\n" +
			"@ NS ns\nns A 192.0.2.1\nns AAAA 2001:db8::1\nw CNAME ns\n1 PTR w.example.\n@ MX 10 ns\n" +
			"t TXT \"a b; (c)\" \"\" \"d\"\nsub DS 12345 8 2 ABCDEF0123 456789\n", 9},
		{"ttl and class in either order", head + "a 60 IN A 192.0.2.1\nb IN 61 A 192.0.2.2\nc in a 192.0.2.3\n\t62 aaaa ::1\n", 4},
		{"ttl carried without $TTL", "$ORIGIN example.\n@ 60 SOA ns h 1 2 3 4 5\n NS ns\nns A 192.0.2.1\nb 99 A 192.0.2.2\nc A 192.0.2.3\n", 5},
		{"root origin", "$ORIGIN .\n$TTL 1\n. SOA a. b. 1 2 3 4 5\n NS a.\ncom NS a.\n", 3},
		{"mixed runs", head + "x A 192.0.2.1\n RRSIG A 8 2 300 20240101000000 20230101000000 1 example. AAAA\n NSEC y.example. A RRSIG NSEC\ny 7 A 192.0.2.2\n SSHFP 1 1 0123\n\tA 192.0.2.3\n", 3},
		{"declined", head + "a\\.b A 192.0.2.1\nc A ( 192.0.2.2 )\nd 1h A 192.0.2.3\ne CH A 192.0.2.4\nf A ::ffff:192.0.2.5\ng TXT unquoted\nh A 192.0.2.6;glued\n" +
			"i TXT \"" + strings.Repeat("x", 256) + "\"\nj AAAA fe80::1%eth0\nk DS 1 RSASHA256 2 AB\nl MX 10 a..b\n", 0},
		// 63-octet labels, and a 255-octet name (wire form) at the limit.
		{"long names", head + long63 + " A 192.0.2.1\n" + strings.Repeat(long63+".", 3) + strings.Repeat("b", 61) + ". A 192.0.2.1\n", 2},
		{"label too long", head + long63 + "a A 192.0.2.1\n", 0},
		{"name too long", head + strings.Repeat(long63+".", 3) + strings.Repeat("b", 62) + ". A 192.0.2.1\n", 0},
		{"relative name too long", head + strings.Repeat(long63+".", 3) + strings.Repeat("b", 53) + " A 192.0.2.1\n", 0},
		{"bad address", head + "a A 192.0.2.256\n", 0},
		{"bad preference", head + "b MX 65536 x\n", 0},
		{"ttl too large", head + "c 4294967296 A 192.0.2.1\n", 0},
		{"largest ttl miekg/dns reads", head + "d 4294967295 A 192.0.2.1\n", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sameParse(t, tc.text, "example.", "example.zone")
			if n := sameGears(t, tc.text, "example.", "example.zone"); n < tc.quick {
				t.Errorf("quick parser built %d records, want at least %d", n, tc.quick)
			}
		})
	}
}

// TestQuickBenchZone holds the quick parser to miekg/dns's reading of a
// zone written the way the load benchmark's zone is (gen-hierarchy.py
// bigzone: class IN, CNAME, A, AAAA, MX and TXT), and to building every
// record of it itself.
func TestQuickBenchZone(t *testing.T) {
	var b strings.Builder
	const names = 20_000
	b.WriteString("$TTL 3600\n$ORIGIN bench.example.\nbench.example. 3600 IN SOA ns1.bench.example. hostmaster.bench.example. 2024010101 7200 3600 1209600 3600\n")
	b.WriteString("@ IN NS ns1.bench.example.\n@ IN NS ns2.bench.example.\nns1 IN A 127.0.0.100\nns2 IN A 127.0.0.100\n@ IN A 192.0.2.1\n@ IN MX 10 host1\n")
	records := 7
	for i := range names {
		name := fmt.Sprintf("host%d", i)
		r := i % 20
		if r == 0 {
			fmt.Fprintf(&b, "%s IN CNAME host%d\n", name, i+1)
			records++
			continue
		}
		fmt.Fprintf(&b, "%s IN A 10.%d.%d.%d\n", name, i>>16&255, i>>8&255, i&255)
		records++
		if r%2 == 1 {
			fmt.Fprintf(&b, "%s IN AAAA 2001:db8:%x:%x::1\n", name, i>>16, i&0xffff)
			records++
		}
		if r == 4 {
			fmt.Fprintf(&b, "%s IN MX 10 host%d\n%s IN TXT \"record %d of %d\"\n", name, i+2, name, i, names)
			records += 2
		}
	}
	if n := sameGears(t, b.String(), "bench.example.", "bench.zone"); n != records {
		t.Errorf("quick parser built %d of %d records", n, records)
	}
	path := writeBigZone(t, 20_000)
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if n := sameGears(t, string(text), "big.test.", path); n != 20_000 {
		t.Errorf("quick parser built %d of 20000 records of the generated zone", n)
	}
}

// TestQuickCorpora holds the quick parser to miekg/dns's reading of every
// zone file in the shared corpora.
func TestQuickCorpora(t *testing.T) {
	quickN := 0
	files := eachCorpusZone(t, func(path string, b []byte, origin string) {
		quickN += sameGears(t, string(b), origin, path)
	})
	t.Logf("corpora: %d files, the quick parser built %d records, all equal to miekg/dns's", files, quickN)
	if files < 300 || quickN < 10_000 {
		t.Errorf("only %d files, %d quick records: corpus layout changed?", files, quickN)
	}
}
