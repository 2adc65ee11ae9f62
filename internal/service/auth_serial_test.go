package service

import (
	"bytes"
	"log/slog"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/zone"
)

// serialZone is s.test at serial with extra records.
func serialZone(t *testing.T, serial uint32, extra ...string) *zone.Zone {
	t.Helper()
	text := []string{
		"s.test. 300 IN SOA ns.s.test. h.s.test. " + strconv.FormatUint(uint64(serial), 10) + " 3600 600 86400 60",
		"s.test. 300 IN NS ns.s.test.", "ns.s.test. 300 IN A 192.0.2.1",
	}
	var rrs []dns.RR
	for _, s := range append(text, extra...) {
		rr, err := dns.NewRR(s)
		if err != nil {
			t.Fatal(err)
		}
		rrs = append(rrs, rr)
	}
	z, err := zone.New("s.test.", rrs)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

// TestSerialDiscipline: what a reload serves when the file's serial is
// not ahead of the served one, by policy.
func TestSerialDiscipline(t *testing.T) {
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)
	www := "www.s.test. 300 IN A 192.0.2.80"
	sig := "s.test. 300 IN RRSIG SOA 13 2 300 20260401000000 20260301000000 12345 s.test. AAAA"
	tests := []struct {
		name        string
		served      *zone.Zone
		file        *zone.Zone
		policy      string
		sign        bool
		want        uint32 // serial served after the reload
		keepsServed bool   // the served version itself stays
		newData     bool   // the file's change is served
		log         string // in the log ("" = nothing logged)
	}{
		{"same serial, same data", serialZone(t, 7), serialZone(t, 7), "", false, 7, true, false, ""},
		{"same serial, changed, no policy", serialZone(t, 7), serialZone(t, 7, www), "", false, 7, false, true, "serial did not move"},
		{"same serial, changed, increment", serialZone(t, 7), serialZone(t, 7, www), config.SerialIncrement, false, 8, false, true, "serial moved"},
		{"same serial, changed, unixtime", serialZone(t, 7), serialZone(t, 7, www), config.SerialUnixTime, false, uint32(now.Unix()), false, true, "serial moved"},
		{"same serial, changed, dateserial", serialZone(t, 7), serialZone(t, 7, www), config.SerialDateSerial, false, 2026031400, false, true, "serial moved"},
		{"dateserial already today", serialZone(t, 2026031405), serialZone(t, 2026031405, www), config.SerialDateSerial, false, 2026031406, false, true, "serial moved"},
		{"unixtime ahead of the clock", serialZone(t, uint32(now.Unix())+1000), serialZone(t, uint32(now.Unix())+1000, www), config.SerialUnixTime, false, uint32(now.Unix()) + 1001, false, true, "serial moved"},
		// The file still says 7 after the server moved it to 8: same
		// data, so 8 stays.
		{"moved before, file unchanged", serialZone(t, 8, www), serialZone(t, 7, www), config.SerialIncrement, false, 8, true, false, ""},
		{"moved before, file changed again", serialZone(t, 8, www), serialZone(t, 7), config.SerialIncrement, false, 9, false, false, "serial moved"},
		{"file ahead", serialZone(t, 7), serialZone(t, 9, www), config.SerialIncrement, false, 9, false, true, ""},
		{"SOA timers changed", serialZone(t, 7), func() *zone.Zone {
			z := serialZone(t, 7)
			soa := *z.SOA
			soa.Refresh = 1800
			return mustWithSOA(t, z, &soa)
		}(), config.SerialIncrement, false, 8, false, false, "serial moved"},
		{"signed outside", serialZone(t, 7, sig), serialZone(t, 7, sig, www), config.SerialIncrement, false, 7, false, true, "serial did not move"},
		{"signed by the server: the signer's business", serialZone(t, 7), serialZone(t, 7, www), config.SerialIncrement, true, 7, false, true, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, nil))
			zc := config.AuthZone{Origin: "S.test", File: "f", SerialPolicy: tc.policy}
			if tc.sign {
				zc.Sign.Keys = "keys"
			}
			cfg := &config.Auth{Zones: []config.AuthZone{zc}}
			got := serialDiscipline(log, cfg, []*zone.Zone{tc.file}, []*zone.Zone{tc.served}, now)[0]
			if got.SOA.Serial != tc.want || (got == tc.served) != tc.keepsServed {
				t.Fatalf("serving serial %d (the served version: %v); want %d (%v)", got.SOA.Serial, got == tc.served, tc.want, tc.keepsServed)
			}
			if hasWWW := got.Node("www.s.test.") != nil; tc.newData && !hasWWW {
				t.Error("the file's new record is not served")
			}
			if l := logs.String(); tc.log == "" && l != "" || !strings.Contains(l, tc.log) {
				t.Errorf("log %q, want %q", l, tc.log)
			}
			if tc.log != "" && !strings.Contains(logs.String(), "zone=s.test.") {
				t.Errorf("log does not name the zone: %s", logs.String())
			}
		})
	}
}

func mustWithSOA(t *testing.T, z *zone.Zone, soa *dns.SOA) *zone.Zone {
	t.Helper()
	var rrs []dns.RR
	for _, name := range z.Names() {
		for _, set := range z.Node(name).Sets {
			if set.Type != dns.TypeSOA {
				rrs = append(rrs, set.RRs...)
			}
		}
	}
	nz, err := zone.New(z.Origin, append(rrs, soa))
	if err != nil {
		t.Fatal(err)
	}
	return nz
}
