package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rootline-dns/rootline/internal/peers"
)

// signTestZone has what signers get wrong: a wildcard, empty
// non-terminals, secure and insecure delegations with glue (in and below
// the cut), an insecure delegation deep below ENTs (opt-out drops them),
// DNAME, CNAME, a large RRset, and mixed case in names and RDATA.
const signTestZone = `$ORIGIN example.com.
$TTL 3600
@ IN SOA ns1 hostmaster 2024010101 7200 3600 1209600 300
@ NS ns1
@ NS ns2.Other.Net.
@ MX 10 Mail
ns1 A 192.0.2.1
Mail A 192.0.2.2
mail AAAA 2001:db8::2
*.wild TXT "wildcard"
a.b.c.ent A 192.0.2.3
www CNAME mail
dn DNAME example.net.
secure NS ns.secure
secure DS 12345 13 2 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
ns.secure A 192.0.2.10
insecure NS ns.insecure
insecure NS NS1
ns.insecure A 192.0.2.11
x.y.insecure2 NS ns.example.net.
srv._tcp SRV 0 0 53 Ns1.example.com.
`

func largeSet() string {
	var b strings.Builder
	for i := range 200 {
		fmt.Fprintf(&b, "big TXT \"record %d of a large set\"\n", i)
	}
	return b.String()
}

// runCLI runs the command in-process.
func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	err := run(context.Background(), args, &out, &errb)
	return out.String(), errb.String(), err
}

func keygen(t *testing.T, dir, origin, alg string, ksk bool) string {
	t.Helper()
	args := []string{"zone", "keygen", "-a", alg, "--dir", dir}
	if ksk {
		args = append(args, "--ksk")
	}
	out, stderr, err := runCLI(t, append(args, origin)...)
	if err != nil {
		t.Fatalf("keygen: %v: %s", err, stderr)
	}
	return strings.TrimSpace(out)
}

// verifySigned runs the three independent checkers on a signed zone.
// csk says one key with the SEP flag signs everything, which
// dnssec-verify accepts only when told to ignore the flag (-z).
func verifySigned(t *testing.T, file, origin string, csk ...bool) {
	t.Helper()
	bind := []string{peers.Need(t, "dnssec-verify"), "-q", "-o", origin, file}
	if len(csk) > 0 && csk[0] {
		bind = append(bind[:2], append([]string{"-z"}, bind[2:]...)...)
	}
	for _, c := range [][]string{
		{peers.Need(t, "ldns-verify-zone"), file},
		bind,
		{peers.Need(t, "kzonecheck"), "-d", "on", "-o", origin, file},
	} {
		out, err := exec.Command(c[0], c[1:]...).CombinedOutput()
		if err != nil {
			t.Errorf("%s rejects the zone: %v\n%s", filepath.Base(c[0]), err, out)
		}
	}
}

func TestZoneSignVerifiedByPeers(t *testing.T) {
	zoneText := signTestZone + largeSet()
	for _, alg := range []string{"ecdsap256sha256", "ed25519"} {
		for _, mode := range [][]string{nil, {"--nsec3"}, {"--nsec3", "--opt-out"}, {"--nsec3", "--salt", "AABBCCDD", "--iterations", "5"}} {
			t.Run(alg+strings.Join(mode, ""), func(t *testing.T) {
				dir := t.TempDir()
				zf := filepath.Join(dir, "example.com.zone")
				if err := os.WriteFile(zf, []byte(zoneText), 0o644); err != nil {
					t.Fatal(err)
				}
				keygen(t, dir, "example.com", alg, true)
				keygen(t, dir, "example.com", alg, false)
				args := append([]string{"zone", "sign", "--keys", dir}, mode...)
				out, stderr, err := runCLI(t, append(args, zf)...)
				if err != nil {
					t.Fatalf("sign: %v\n%s", err, stderr)
				}
				signed := filepath.Join(dir, "signed.zone")
				os.WriteFile(signed, []byte(out), 0o644)
				if ds, err := os.ReadFile(filepath.Join(dir, "dsset-example.com.")); err != nil || !strings.Contains(string(ds), "IN\tDS\t") {
					t.Errorf("dsset file: %v %q", err, ds)
				}
				if strings.Contains(out, "ns.secure.example.com.\t3600\tIN\tRRSIG") || strings.Contains(out, "RRSIG\tNS 13 3") {
					t.Error("glue or a delegation's NS set was signed")
				}
				verifySigned(t, signed, "example.com")
			})
		}
	}
}

// The other direction: keys made by dnssec-keygen and ldns-keygen
// (including RSASHA256) sign with our signer; keys we make sign with
// ldns-signzone and dnssec-signzone.
func TestZoneSignKeysInterop(t *testing.T) {
	zoneText := signTestZone
	t.Run("foreign keys, our signer", func(t *testing.T) {
		for _, c := range []struct {
			tool string
			args [][]string
		}{
			{"dnssec-keygen", [][]string{{"-q", "-a", "RSASHA256", "-b", "2048", "-f", "KSK"}, {"-q", "-a", "RSASHA256", "-b", "1024"}}},
			{"dnssec-keygen", [][]string{{"-q", "-a", "ECDSAP256SHA256", "-f", "KSK"}, {"-q", "-a", "ECDSAP256SHA256"}}},
			{"ldns-keygen", [][]string{{"-a", "ED25519", "-k"}, {"-a", "ED25519"}}},
			// One key with the SEP flag signs everything (a CSK).
			{"ldns-keygen", [][]string{{"-a", "RSASHA256", "-b", "1024", "-k"}}},
		} {
			t.Run(c.tool+c.args[0][len(c.args[0])-1], func(t *testing.T) {
				bin := peers.Need(t, c.tool)
				dir := t.TempDir()
				for _, a := range c.args {
					cmd := exec.Command(bin, append(a, "example.com")...)
					cmd.Dir = dir
					if out, err := cmd.CombinedOutput(); err != nil {
						t.Fatalf("%s: %v\n%s", c.tool, err, out)
					}
				}
				zf := filepath.Join(dir, "example.com.zone")
				os.WriteFile(zf, []byte(zoneText), 0o644)
				out, stderr, err := runCLI(t, "zone", "sign", "--keys", dir, "--nsec3", zf)
				if err != nil {
					t.Fatalf("sign: %v\n%s", err, stderr)
				}
				signed := filepath.Join(dir, "signed.zone")
				os.WriteFile(signed, []byte(out), 0o644)
				verifySigned(t, signed, "example.com", len(c.args) == 1)
			})
		}
	})
	for _, alg := range []string{"ecdsap256sha256", "ed25519"} {
		t.Run("our keys, "+alg, func(t *testing.T) {
			dir := t.TempDir()
			ksk := keygen(t, dir, "example.com", alg, true) // ldns takes the names; BIND finds them (-S)
			zsk := keygen(t, dir, "example.com", alg, false)
			zf := filepath.Join(dir, "example.com.zone")
			os.WriteFile(zf, []byte(zoneText), 0o644)
			ldns := exec.Command(peers.Need(t, "ldns-signzone"), "-f", "ldns.zone", zf, ksk, zsk)
			ldns.Dir = dir
			if out, err := ldns.CombinedOutput(); err != nil {
				t.Fatalf("ldns-signzone: %v\n%s", err, out)
			}
			bind := exec.Command(peers.Need(t, "dnssec-signzone"), "-q", "-S", "-K", dir, "-o", "example.com", "-f", "bind.zone", zf)
			bind.Dir = dir
			if out, err := bind.CombinedOutput(); err != nil {
				t.Fatalf("dnssec-signzone: %v\n%s", err, out)
			}
			verifySigned(t, filepath.Join(dir, "ldns.zone"), "example.com")
			verifySigned(t, filepath.Join(dir, "bind.zone"), "example.com")
		})
	}
}

func TestZoneSignBadInput(t *testing.T) {
	dir := t.TempDir()
	zf := filepath.Join(dir, "example.com.zone")
	os.WriteFile(zf, []byte(signTestZone), 0o644)
	write := func(name, text string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := runCLI(t, "zone", "sign", "--keys", dir, zf)
	if err == nil || !strings.Contains(err.Error(), "no keys for example.com.") {
		t.Errorf("no keys: %v", err)
	}
	// A key file named for the zone but holding another zone's key.
	other := keygen(t, dir, "example.org", "ed25519", false)
	for _, ext := range []string{".key", ".private"} {
		b, _ := os.ReadFile(filepath.Join(dir, other+ext))
		write("Kexample.com.+015+00001"+ext, string(b))
	}
	_, _, err = runCLI(t, "zone", "sign", "--keys", dir, zf)
	if err == nil || !strings.Contains(err.Error(), "Kexample.com.+015+00001.key: DNSKEY: key is for zone example.org.") {
		t.Errorf("foreign key: %v", err)
	}
	// A malformed private key.
	write("Kexample.com.+015+00001.key", "example.com. IN DNSKEY 256 3 15 rG+8+2AZIFX6omZq8q7JqETv8siW7JT8YmWwojDfT0E=\n")
	write("Kexample.com.+015+00001.private", "Private-key-format: v1.3\nAlgorithm: 15 (ED25519)\nPrivateKey: not*base64\n")
	_, _, err = runCLI(t, "zone", "sign", "--keys", dir, zf)
	if err == nil || !strings.Contains(err.Error(), "Kexample.com.+015+00001.private:3: PrivateKey: not base64") {
		t.Errorf("bad private key: %v", err)
	}
	for _, args := range [][]string{
		{"zone", "sign", "--expire", "soon", zf},
		{"zone", "sign", "--opt-out", zf},
		{"zone", "sign", "--nsec3", "--salt", "xyz", zf},
		{"zone", "keygen", "-a", "rsasha1", "example.com"},
		{"zone", "keygen"},
	} {
		if _, _, err := runCLI(t, args...); err == nil {
			t.Errorf("%v: no error", args)
		} else if ee, ok := err.(exitError); !ok || ee.code != 2 {
			t.Errorf("%v: %v, want usage error", args, err)
		}
	}
}
