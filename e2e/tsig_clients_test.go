package e2e

import (
	"encoding/base64"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/internal/tsig"
)

// TSIG clients: rootline lookup next to dig, and dig and kdig against
// rootline with every algorithm.

// rootline lookup -y and -k against NSD, Knot and a rootline without
// keys, next to dig with the same key: the same status, the same TSIG
// pseudosection (error), the same verdict lines, the same exit status.
func TestTSIGLookupLikeDig(t *testing.T) {
	bin := rootlineBin(t)
	dig := peers.Need(t, "dig")
	keygen := peers.Need(t, "tsig-keygen")
	dir := t.TempDir()
	file := filepath.Join(dir, "repl.zone")
	if err := os.WriteFile(file, []byte(xfrZone(1)), 0o644); err != nil {
		t.Fatal(err)
	}
	// A key file from tsig-keygen, and the same key for the servers.
	out, err := exec.Command(keygen, "-a", "hmac-sha512", "lookup-key").Output()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "lookup-key.conf")
	if err := os.WriteFile(keyFile, out, 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := tsig.ParseKeyFile(string(out))
	if err != nil {
		t.Fatal(err)
	}
	fileKey := &peers.TSIGKey{Name: "lookup-key", Algorithm: "hmac-sha512", Secret: base64.StdEncoding.EncodeToString(keys[0].Secret)}
	servers := map[string]netip.AddrPort{}
	for _, k := range []*peers.TSIGKey{tsigKey, fileKey} {
		zs := []peers.XfrZone{{Zone: peers.Zone{Origin: xfrOrigin, Text: xfrZone(1)}, Key: k}}
		servers["nsd "+k.Name] = peers.StartNSDXfr(t, []netip.AddrPort{freeAddr(t)}, zs).Addrs[0]
		servers["knot "+k.Name] = peers.StartKnotXfr(t, []netip.AddrPort{freeAddr(t)}, zs).Addrs[0]
	}
	bare := freeAddr(t)
	peers.StartProcess(t, "rootline", dir, []netip.AddrPort{bare}, []string{xfrOrigin}, bin, "auth", "--listen", bare.String(), "--zone", xfrOrigin+"="+file)

	good := "hmac-sha256:" + tsigName + ":" + tsigSecret
	tests := []struct {
		name, server string
		args         []string
		status, err  string // expected status and TSIG error
	}{
		{"-y", "nsd " + tsigName, []string{"-y", good}, "NOERROR", "NOERROR"},
		{"-y", "knot " + tsigName, []string{"-y", good}, "NOERROR", "NOERROR"},
		{"-k", "nsd lookup-key", []string{"-k", keyFile}, "NOERROR", "NOERROR"},
		{"-k", "knot lookup-key", []string{"-k", keyFile}, "NOERROR", "NOERROR"},
		{"wrong secret", "nsd " + tsigName, []string{"-y", "hmac-sha256:" + tsigName + ":" + tsigWrong}, "NOTAUTH", "BADSIG"},
		{"wrong secret", "knot " + tsigName, []string{"-y", "hmac-sha256:" + tsigName + ":" + tsigWrong}, "NOTAUTH", "BADSIG"},
		{"unknown key", "knot " + tsigName, []string{"-y", "hmac-sha256:nobody:" + tsigSecret}, "NOTAUTH", "BADKEY"},
		{"server without keys", "rootline", []string{"-y", good}, "NOTAUTH", "BADKEY"},
	}
	servers["rootline"] = bare
	for _, tc := range tests {
		t.Run(tc.name+" "+tc.server, func(t *testing.T) {
			a := servers[tc.server]
			args := append([]string{"@" + a.Addr().String(), "-p", fmt.Sprint(a.Port()), "www." + xfrOrigin, "A", "+norecurse"}, tc.args...)
			digOut, digErr := exec.Command(dig, args...).Output()
			ours, ourErr := exec.Command(bin, append([]string{"lookup"}, args...)...).Output()
			want, got := tsigVerdict(string(digOut), digErr), tsigVerdict(string(ours), ourErr)
			if got != want {
				t.Errorf("rootline lookup:\n%s\ndig:\n%s\n--- ours\n%s--- dig\n%s", got, want, ours, digOut)
			}
			if !strings.Contains(got, "status: "+tc.status) || !strings.Contains(got, "TSIG "+tc.err) {
				t.Errorf("want status %s and TSIG %s:\n%s", tc.status, tc.err, got)
			}
		})
	}
}

// tsigVerdict is what dig and rootline lookup say about a signed reply:
// status, the TSIG record's error, the verification lines, exit status.
func tsigVerdict(out string, err error) string {
	var v []string
	lines := strings.Split(out, "\n")
	for i, l := range lines {
		switch {
		case strings.Contains(l, "->>HEADER<<-"):
			_, st, _ := strings.Cut(l, "status: ")
			st, _, _ = strings.Cut(st, ",")
			v = append(v, "status: "+st)
		case l == ";; TSIG PSEUDOSECTION:" && i+1 < len(lines):
			f := strings.Fields(lines[i+1])
			if len(f) >= 3 {
				v = append(v, "TSIG "+f[len(f)-2])
			}
		case strings.HasPrefix(l, ";; Couldn't verify"), strings.HasPrefix(l, ";; WARNING -- "):
			v = append(v, l)
		}
	}
	v = append(v, fmt.Sprint("exit: ", err))
	return strings.Join(v, "\n")
}

// Every algorithm against dig and kdig (independent implementations;
// hmac-md5 is the one miekg/dns no longer checks for us): a signed query
// (its reply carrying the DNS Cookie the options add, under the
// signature) and a signed AXFR verify both ways.
func TestTSIGAlgorithmsWithDig(t *testing.T) {
	bin := rootlineBin(t)
	dig := peers.Need(t, "dig")
	kdig := peers.Need(t, "kdig")
	dir := t.TempDir()
	file := filepath.Join(dir, "repl.zone")
	if err := os.WriteFile(file, []byte(xfrZone(1)), 0o644); err != nil {
		t.Fatal(err)
	}
	algs := []string{"hmac-md5", "hmac-sha1", "hmac-sha224", "hmac-sha256", "hmac-sha384", "hmac-sha512"}
	rlAddr := freeAddr(t)
	args := []string{"auth", "--listen", rlAddr.String(), "--zone", xfrOrigin + "=" + file}
	for _, a := range algs {
		args = append(args, "--key", a+":"+a+"-key:"+tsigSecret, "--allow-transfer", "key:"+a+"-key")
	}
	peers.StartProcess(t, "rootline", dir, []netip.AddrPort{rlAddr}, []string{xfrOrigin}, bin, args...)
	port, at := fmt.Sprint(rlAddr.Port()), "@"+rlAddr.Addr().String()
	want := textSet(t, xfrZone(1))
	for _, a := range algs {
		y := a + ":" + a + "-key:" + tsigSecret
		for _, client := range []string{dig, kdig} {
			out, err := exec.Command(client, "-p", port, at, "www."+xfrOrigin, "A", "-y", y).CombinedOutput()
			if s := string(out); err != nil || !strings.Contains(s, "NOERROR") || strings.Contains(s, "Couldn't verify") || strings.Contains(s, "WARNING -- ") ||
				strings.Contains(s, "TSIG verify") || !strings.Contains(s, a+".") {
				t.Errorf("%s -y %s query: %v\n%s", filepath.Base(client), a, err, s)
			}
			rrs, s := clientXfr(t, client, "-p", port, at, xfrOrigin, "AXFR", "-y", y)
			sameSet(t, filepath.Base(client)+" AXFR "+a, want, zoneSet(t, withoutTSIG(rrs)))
			if strings.Contains(s, "Couldn't verify") || strings.Contains(s, "WARNING -- ") || strings.Contains(s, "TSIG verify") {
				t.Errorf("%s -y %s AXFR:\n%s", filepath.Base(client), a, s[max(0, len(s)-300):])
			}
		}
	}
}
