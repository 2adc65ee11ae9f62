package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/lookup"
)

// FuzzLookupFormat feeds arbitrary wire messages to the text, +short and
// JSON printers: none may panic, and the JSON must be valid.
func FuzzLookupFormat(f *testing.F) {
	for _, rr := range []string{
		"a.test. 60 IN A 192.0.2.1",
		`a.test. 60 IN TXT "x" "y\"z"`,
		"a.test. 60 IN LOC 52 22 23.000 N 4 53 32.000 E -2.00m 0.00m 10000m 10m",
		`a.test. 60 IN HTTPS 1 . alpn="h2" port=443 ech=AEX+DQBB`,
		"a.test. 60 IN DS 1 8 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	} {
		m := new(dns.Msg)
		m.SetQuestion("a.test.", dns.TypeA)
		r, err := dns.NewRR(rr)
		if err != nil {
			f.Fatal(err)
		}
		m.Answer = append(m.Answer, r)
		m.SetEdns0(1232, true)
		b, err := m.Pack()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r := new(dns.Msg)
		if r.Unpack(b) != nil {
			return
		}
		req := new(dns.Msg)
		req.SetQuestion("a.test.", dns.TypeA)
		info := lookup.Info{Transport: lookup.UDP, Size: len(b), RTT: time.Millisecond}
		multi := defaultQueryOpts()
		multi.multi, multi.ttlid = true, false
		for _, a := range []*lookupArgs{{opts: defaultQueryOpts(), cmd: true}, {opts: multi}, {opts: defaultQueryOpts(), short: true}, {opts: defaultQueryOpts(), json: true}} {
			var out bytes.Buffer
			p := &printer{w: &out, args: a, now: func() time.Time { return time.Unix(0, 0) }}
			p.reply(question{name: "a.test.", qtype: dns.TypeA, opts: &a.opts}, req, r, info, 1)
			if a.json {
				for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
					if !json.Valid([]byte(line)) {
						t.Fatalf("invalid JSON: %s", line)
					}
				}
			}
		}
	})
}

// FuzzParseLookupArgs: any command line parses or fails cleanly, and what
// parses is within the limits.
func FuzzParseLookupArgs(f *testing.F) {
	f.Add("@127.0.0.1 -p 53 www.example.test MX +short")
	f.Add("-x 2001:db8::1 +json +tries=3 +timeout=2")
	f.Add("a.test A AAAA b.test TYPE65 CH -t txt -c IN +norecurse +dnssec")
	f.Fuzz(func(t *testing.T, line string) {
		a, err := parseLookupArgs(strings.Fields(line))
		if err != nil {
			return
		}
		if len(a.questions) == 0 || len(a.questions) > maxQueries || a.tries < 1 || a.tries > maxLookupTries ||
			a.timeout <= 0 || a.timeout > maxLookupTimeout {
			t.Fatalf("%q: out of bounds: %+v", line, a)
		}
		for _, q := range a.questions {
			if !dns.IsFqdn(q.name) {
				t.Fatalf("%q: name %q not fully qualified", line, q.name)
			}
		}
	})
}

// FuzzLookupBatch: any batch file is read or refused cleanly, within the
// question bound.
func FuzzLookupBatch(f *testing.F) {
	f.Add("a.test MX +short\n@127.0.0.1 -p 53 b.test\n# c\n\n-x 192.0.2.1 +noall +answer\n")
	f.Add("-q MX -t TXT -c CH +multi\n+trace\n")
	f.Fuzz(func(t *testing.T, text string) {
		a, err := parseLookupArgs([]string{"-f", "batch"})
		if err != nil {
			t.Fatal(err)
		}
		if a.readBatch(strings.NewReader(text)) != nil {
			return
		}
		if len(a.questions) > maxQueries {
			t.Fatalf("%d questions", len(a.questions))
		}
		for _, q := range a.questions {
			if !dns.IsFqdn(q.name) || q.opts == nil {
				t.Fatalf("bad question %+v", q)
			}
		}
	})
}
