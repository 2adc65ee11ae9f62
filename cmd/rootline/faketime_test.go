package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/service"
	"github.com/rootline-dns/rootline/internal/validate/validatetest"
)

// setTimeFile writes a libfaketime time file with a modification time of
// its own (n), so that the change is seen whatever the file system's
// timestamp granularity.
func setTimeFile(t *testing.T, path, when string, n int) {
	t.Helper()
	if err := os.WriteFile(path, []byte("@"+when+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	mod := time.Date(2001, 1, 1, 0, 0, n, 0, time.UTC)
	if err := os.Chtimes(path, mod, mod); err != nil {
		t.Fatal(err)
	}
}

// With FAKETIME_TIMESTAMP_FILE set, as Deckard sets it for C resolvers
// run under libfaketime, `rootline resolver` lives at the file's time: a
// root zone whose signatures were valid only in January 2020 validates
// (AD) while the file says 2020-01-15, and is SERVFAIL with EDE 7
// (signature expired) once the file says March. The time file also sets
// no default time floor (2020 is long before the build).
func TestResolverFollowsTimeFile(t *testing.T) {
	dir := t.TempDir()
	timeFile := filepath.Join(dir, "faketime")
	setTimeFile(t, timeFile, "2020-01-15 00:00:00", 1)
	t.Setenv(service.TimeFileEnv, timeFile)

	created := time.Date(2019, 12, 1, 0, 0, 0, 0, time.UTC)
	ksk, err := dnssec.Generate(".", dns.ECDSAP256SHA256, true, created)
	if err != nil {
		t.Fatal(err)
	}
	zsk, err := dnssec.Generate(".", dns.ECDSAP256SHA256, false, created)
	if err != nil {
		t.Fatal(err)
	}
	rrs, err := validatetest.SignZone(".", `. 3600 IN SOA a.root. hostmaster.root. 1 3600 600 86400 300
. 3600 IN NS a.root.
a.root. 3600 IN A 127.0.0.1
www.test. 3600 IN A 192.0.2.1
`, []*dnssec.Key{ksk, zsk}, dnssec.Validity{
		Inception:  time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		Expiration: time.Date(2020, 2, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	var zoneText strings.Builder
	for _, rr := range rrs {
		zoneText.WriteString(rr.String() + "\n")
	}
	zoneFile, anchorFile := filepath.Join(dir, "root.zone"), filepath.Join(dir, "root.key")
	ds, err := ksk.DS(dns.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	for path, text := range map[string]string{zoneFile: zoneText.String(), anchorFile: ds.String() + "\n"} {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}

	var authLog, resLog syncBuffer
	a := startDaemon(t, authCommand, []string{"--listen", "127.0.0.1:0", "--zone", ".=" + zoneFile}, &authLog)
	r := startDaemon(t, resolverCommand, []string{"--listen", "127.0.0.1:0", "--forward", ".=" + a.udp[0].String(),
		"--allow-loopback-upstream", "--trust-anchor", anchorFile}, &resLog)
	for _, l := range []*syncBuffer{&authLog, &resLog} {
		if !strings.Contains(l.String(), "time follows a time file") {
			t.Errorf("start not logged:\n%s", l.String())
		}
	}
	ask := func() *dns.Msg {
		t.Helper()
		m := new(dns.Msg)
		m.SetQuestion("www.test.", dns.TypeA)
		m.SetEdns0(1232, true)
		resp, _, err := (&dns.Client{Timeout: 5 * time.Second}).Exchange(m, r.udp[0].String())
		if err != nil {
			t.Fatalf("%v\n%s", err, resLog.String())
		}
		return resp
	}
	if resp := ask(); resp.Rcode != dns.RcodeSuccess || !resp.AuthenticatedData {
		t.Fatalf("at 2020-01-15: %v\n%s", resp, resLog.String())
	}
	setTimeFile(t, timeFile, "2020-03-01 00:00:00", 2)
	resp := ask()
	ede := -1
	if opt := resp.IsEdns0(); opt != nil {
		for _, o := range opt.Option {
			if e, ok := o.(*dns.EDNS0_EDE); ok {
				ede = int(e.InfoCode)
			}
		}
	}
	if resp.Rcode != dns.RcodeServerFailure || ede != int(dnssec.EDESignatureExpired) {
		t.Fatalf("at 2020-03-01: EDE %d, %v\n%s", ede, resp, resLog.String())
	}
}
