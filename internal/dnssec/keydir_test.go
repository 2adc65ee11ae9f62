package dnssec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/miekg/dns"
)

// keyFiles makes a key pair for origin and returns its two files.
func keyFiles(t *testing.T, origin string, ksk bool) (base string, pub, priv []byte) {
	t.Helper()
	k, err := Generate(origin, dns.ED25519, ksk, time.Unix(1700000000, 0))
	if err != nil {
		t.Fatal(err)
	}
	priv, err = k.MarshalPrivate()
	if err != nil {
		t.Fatal(err)
	}
	return k.BaseName(), k.MarshalPublic(), priv
}

func TestReadKeys(t *testing.T) {
	fsys := fstest.MapFS{}
	for _, ksk := range []bool{true, false} {
		base, pub, priv := keyFiles(t, "example.com.", ksk)
		fsys[base+".key"] = &fstest.MapFile{Data: pub}
		fsys[base+".private"] = &fstest.MapFile{Data: priv}
	}
	// Another zone's keys in the same folder are not this zone's business.
	base, pub, priv := keyFiles(t, "example.org.", false)
	fsys[base+".key"] = &fstest.MapFile{Data: pub}
	fsys[base+".private"] = &fstest.MapFile{Data: priv}
	fsys["dsset-example.com."] = &fstest.MapFile{Data: []byte("junk")}

	keys, err := ReadKeys(fsys, "/keys", "Example.COM")
	if err != nil || len(keys) != 2 || keys[0].DNSKEY.Hdr.Name != "example.com." {
		t.Fatalf("ReadKeys: %d keys, %v", len(keys), err)
	}
	if !keys[0].KSK() && !keys[1].KSK() {
		t.Error("no KSK read")
	}

	tests := []struct {
		name string
		edit func(m fstest.MapFS)
		want string
	}{
		{"malformed private key", func(m fstest.MapFS) {
			m["Kexample.com.+015+00001.key"] = m[keyName(m, "example.com.", ".key")]
			m["Kexample.com.+015+00001.private"] = &fstest.MapFile{Data: []byte("Private-key-format: v1.3\nAlgorithm: 15 (ED25519)\nPrivateKey: %%%\n")}
		}, "/keys/Kexample.com.+015+00001.private:3: PrivateKey: not base64"},
		{"key for another zone under this zone's name", func(m fstest.MapFS) {
			m["Kexample.com.+015+00001.key"] = m[keyName(m, "example.org.", ".key")]
			m["Kexample.com.+015+00001.private"] = m[keyName(m, "example.org.", ".private")]
		}, "/keys/Kexample.com.+015+00001.key: DNSKEY: key is for zone example.org., not example.com."},
		{"private without public", func(m fstest.MapFS) {
			m["Kexample.com.+015+00001.private"] = m[keyName(m, "example.com.", ".private")]
		}, "/keys/Kexample.com.+015+00001.key: file does not exist"},
		{"malformed public key", func(m fstest.MapFS) {
			m["Kexample.com.+015+00001.key"] = &fstest.MapFile{Data: []byte("; comment\nexample.com. IN DNSKEY 256 3 15 !!!\n")}
			m["Kexample.com.+015+00001.private"] = m[keyName(m, "example.com.", ".private")]
		}, "/keys/Kexample.com.+015+00001.key:2: DNSKEY"},
	}
	for _, tc := range tests {
		m := fstest.MapFS{}
		for k, v := range fsys {
			m[k] = v
		}
		tc.edit(m)
		if _, err := ReadKeys(m, "/keys", "example.com."); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}

	if _, err := ReadKeys(fsys, "/keys", "example.net."); err == nil || !strings.Contains(err.Error(), "no keys for example.net.") {
		t.Errorf("no keys: %v", err)
	}
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := ReadKeys(os.DirFS(missing), missing, "example.com."); err == nil || !strings.Contains(err.Error(), "keys "+missing+": ") {
		t.Errorf("missing folder: %v", err)
	}
}

// keyName finds the file of origin's first key with the suffix.
func keyName(m fstest.MapFS, origin, suffix string) string {
	for name := range m {
		if strings.HasPrefix(name, "K"+origin+"+") && strings.HasSuffix(name, suffix) && !strings.Contains(name, "+00001") {
			return name
		}
	}
	return ""
}
