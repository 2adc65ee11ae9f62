package xfr

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/zone"
)

const testOrigin = "x.test."

// zoneText is a small zone at serial with n extra TXT records; versions
// differ in a few records.
func zoneText(serial uint32, n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "$ORIGIN x.test.\n$TTL 300\n@ SOA ns hostmaster %d 3600 600 86400 60\n@ NS ns\nns A 192.0.2.1\n", serial)
	fmt.Fprintf(&b, "www %d A 192.0.2.10\nv%d AAAA 2001:db8::%d\n", 300+serial, serial, serial)
	for i := range n {
		fmt.Fprintf(&b, "t%d TXT \"%s\"\n", i, strings.Repeat("z", 100))
	}
	return b.String()
}

func mustZone(t testing.TB, text string) *zone.Zone {
	t.Helper()
	entries, problems := zone.Parse(strings.NewReader(text), testOrigin, "test", zone.Options{})
	for _, p := range problems {
		if !p.Warning {
			t.Fatalf("zone: %s", p)
		}
	}
	rrs := make([]dns.RR, len(entries))
	for i, e := range entries {
		rrs[i] = e.RR
	}
	z, err := zone.New(testOrigin, rrs)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// records lists a zone's records as sorted strings, SOA included once.
func records(z *zone.Zone) []string {
	var out []string
	for rr := range axfrRecords(z, nil) {
		out = append(out, rr.String())
	}
	out = out[:len(out)-1] // the closing SOA
	slices.Sort(out)
	return out
}

func rrStrings(rrs []dns.RR) []string {
	out := make([]string, len(rrs))
	for i, rr := range rrs {
		out[i] = rr.String()
	}
	slices.Sort(out)
	return out
}
