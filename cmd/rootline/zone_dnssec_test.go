package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rootline-dns/rootline/internal/peers"
)

const checkTestZone = `$ORIGIN example.test.
$TTL 3600
@ IN SOA ns1 hostmaster 1 7200 3600 1209600 300
@ IN NS ns1
@ IN A 192.0.2.1
ns1 IN A 192.0.2.53
www IN A 192.0.2.10
www IN TXT "hello"
a.b.ent IN A 192.0.2.11
sub IN NS ns.sub
ns.sub IN A 192.0.2.54
`

// ldnsSign signs text with a fresh KSK and ZSK made by ldns-keygen and
// returns the signed file's lines and the key base names.
func ldnsSign(t *testing.T, dir, origin, text string, args ...string) []string {
	t.Helper()
	keygen := peers.Need(t, "ldns-keygen")
	signer := peers.Need(t, "ldns-signzone")
	var keys []string
	for _, ksk := range []bool{true, false} {
		a := []string{"-a", "ECDSAP256SHA256"}
		if ksk {
			a = append(a, "-k")
		}
		cmd := exec.Command(keygen, append(a, origin)...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("ldns-keygen: %v", err)
		}
		keys = append(keys, strings.TrimSpace(string(out)))
	}
	file := filepath.Join(dir, origin+"zone")
	if err := os.WriteFile(file, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(signer, append(append(args, file), keys...)...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ldns-signzone: %v\n%s", err, out)
	}
	signed, err := os.ReadFile(file + ".signed")
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimRight(string(signed), "\n"), "\n")
}

// edit applies f to each line matching re (f returns the replacement
// lines: none deletes the line) and fails if nothing matched.
func edit(t *testing.T, lines []string, re string, f func(string) []string) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	var out []string
	hit := false
	for _, l := range lines {
		if !hit && rx.MatchString(l) {
			hit = true
			out = append(out, f(l)...)
			continue
		}
		out = append(out, l)
	}
	if !hit {
		t.Fatalf("no line matches %s in:\n%s", re, strings.Join(lines, "\n"))
	}
	return out
}

// zone check's DNSSEC verdict on zones signed by ldns-signzone, intact and
// broken on purpose, agrees with BIND's dnssec-verify, and names the
// problem at its line.
func TestZoneCheckDNSSECAgainstDnssecVerify(t *testing.T) {
	verify := peers.Need(t, "dnssec-verify")
	drop := func(string) []string { return nil }
	flip := func(l string) []string { // one base64 character of the signature
		i := len(l) - 10
		c := byte('A')
		if l[i] == 'A' {
			c = 'B'
		}
		return []string{l[:i] + string(c) + l[i+1:]}
	}
	tests := []struct {
		name   string
		args   []string // for ldns-signzone
		break_ func(t *testing.T, lines []string) []string
		want   string // "" = no problem; else a substring of our stderr
	}{
		{"nsec", nil, nil, ""},
		{"nsec3", []string{"-n", "-t", "0"}, nil, ""},
		{"nsec3 opt-out", []string{"-n", "-p", "-t", "0"}, nil, ""},
		{"expired", []string{"-i", "20200101000000", "-e", "20200201000000"}, nil, "expired at 20200201000000"},
		{"not yet valid", []string{"-i", "20400101000000", "-e", "20400201000000"}, nil, "is not yet valid"},
		{"bad signature", nil, func(t *testing.T, l []string) []string {
			return edit(t, l, `^www\.example\.test\.\s+\d+\s+IN\s+RRSIG\s+TXT `, flip)
		}, "RRSIG www.example.test./TXT by key"},
		{"unsigned RRset", nil, func(t *testing.T, l []string) []string {
			return edit(t, l, `^ns1\.example\.test\.\s+\d+\s+IN\s+RRSIG\s+A `, drop)
		}, "ns1.example.test./A has no valid signature"},
		{"NSEC missing", nil, func(t *testing.T, l []string) []string {
			l = edit(t, l, `^ns1\.example\.test\.\s+\d+\s+IN\s+NSEC\s`, drop)
			return edit(t, l, `^ns1\.example\.test\.\s+\d+\s+IN\s+RRSIG\s+NSEC `, drop)
		}, "no NSEC at ns1.example.test."},
		{"NSEC wrong bitmap", nil, func(t *testing.T, l []string) []string {
			return edit(t, l, `^www\.example\.test\.\s+\d+\s+IN\s+NSEC\s`, func(s string) []string {
				return []string{strings.Replace(s, " TXT ", " ", 1)}
			})
		}, "NSEC at www.example.test. lists [A RRSIG NSEC], the name has [A TXT RRSIG NSEC]"},
		{"NSEC3 missing", []string{"-n", "-t", "0"}, func(t *testing.T, l []string) []string {
			return edit(t, l, `\s+IN\s+NSEC3\s`, drop)
		}, "no NSEC3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			lines := ldnsSign(t, dir, "example.test.", checkTestZone, tt.args...)
			if tt.break_ != nil {
				lines = tt.break_(t, lines)
			}
			file := filepath.Join(dir, "check.zone")
			if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, stderr, err := runCLI(t, "zone", "check", "-o", "example.test.", file)
			oursOK := err == nil
			theirs, verr := exec.Command(verify, "-o", "example.test.", file).CombinedOutput()
			theirsOK := verr == nil
			if oursOK != (tt.want == "") || (tt.want != "" && !strings.Contains(stderr, tt.want)) {
				t.Errorf("zone check: %v, stderr:\n%s\nwant %q", err, stderr, tt.want)
			}
			if oursOK != theirsOK {
				t.Errorf("zone check says ok=%v, dnssec-verify ok=%v:\n%s\n%s", oursOK, theirsOK, stderr, theirs)
			}
			if !oursOK && !regexp.MustCompile(`check\.zone:\d+: `).MatchString(stderr) {
				t.Errorf("problems lack file:line:\n%s", stderr)
			}
		})
	}
}

// Given a parent and its child, zone check reports a DS in the parent that
// matches no DNSKEY of the child.
func TestZoneCheckDS(t *testing.T) {
	dir := t.TempDir()
	child := ldnsSign(t, dir, "example.test.", checkTestZone)
	childFile := filepath.Join(dir, "child.zone")
	if err := os.WriteFile(childFile, []byte(strings.Join(child, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dsFiles, _ := filepath.Glob(filepath.Join(dir, "Kexample.test.+013+*.ds"))
	var goodDS string
	for _, f := range dsFiles {
		b, _ := os.ReadFile(f)
		key, _ := os.ReadFile(strings.TrimSuffix(f, ".ds") + ".key")
		if strings.Contains(string(key), "257 3 13") {
			goodDS = strings.TrimSpace(string(b))
		}
	}
	if goodDS == "" {
		t.Fatalf("no KSK DS among %v", dsFiles)
	}
	parentText := func(ds string) string {
		return "$ORIGIN test.\n$TTL 3600\n@ IN SOA ns hostmaster 1 7200 3600 1209600 300\n@ IN NS ns\nns IN A 192.0.2.1\n" +
			"example IN NS ns1.example\nns1.example IN A 192.0.2.53\n" + ds + "\n"
	}
	for _, tt := range []struct {
		name, ds string
		ok       bool
	}{
		{"matching", goodDS, true},
		{"mismatch", regexp.MustCompile(`[0-9a-f]{8}$`).ReplaceAllString(goodDS, "00000000"), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pdir := t.TempDir()
			parent := ldnsSign(t, pdir, "test.", parentText(tt.ds))
			pfile := filepath.Join(pdir, "parent.zone")
			if err := os.WriteFile(pfile, []byte(strings.Join(parent, "\n")+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			_, stderr, err := runCLI(t, "zone", "check", childFile, pfile)
			if (err == nil) != tt.ok {
				t.Fatalf("zone check: %v\n%s", err, stderr)
			}
			if !tt.ok && !regexp.MustCompile(`parent\.zone:\d+: DS \d+ 13 2 for example\.test\. matches no DNSKEY of zone example\.test\.`).MatchString(stderr) {
				t.Errorf("stderr:\n%s", stderr)
			}
		})
	}
}
