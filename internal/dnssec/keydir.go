package dnssec

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/miekg/dns"
)

// maxKeyDirFiles bounds the key files of one zone read from a folder: a
// zone has a handful of keys (a KSK and a ZSK, twice that during a
// rollover); thousands mean the folder is not a key folder.
const maxKeyDirFiles = 256

// ReadKeys reads every key pair in fsys whose file name says it belongs to
// origin (K<origin>+<alg>+<tag>.private and the matching .key, as
// dnssec-keygen, ldns-keygen and rootline zone keygen name them). shown is
// the folder's name for error messages, which name the file and line at
// fault. A file that is unreadable or malformed, a .private without its
// .key, or a key for another zone is an error; so is a folder with no key
// for origin. The caller opens the folder (os.DirFS, or an fstest.MapFS in
// tests): this package still opens no path of its own.
func ReadKeys(fsys fs.FS, shown, origin string) ([]*Key, error) {
	origin = dns.CanonicalName(origin)
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("keys %s: %w", shown, err)
	}
	// File names keep the origin's case as the tool that made them wrote
	// it; compare them case-insensitively, as names are.
	prefix := "k" + origin + "+"
	var keys []*Key
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".private") || !strings.HasPrefix(strings.ToLower(name), prefix) {
			continue
		}
		if len(keys) == maxKeyDirFiles {
			return nil, fmt.Errorf("keys %s: more than %d keys for %s", shown, maxKeyDirFiles, origin)
		}
		pubName := strings.TrimSuffix(name, ".private") + ".key"
		k, err := readKeyPair(fsys, shown, pubName, name)
		if err != nil {
			return nil, err
		}
		if k.DNSKEY.Hdr.Name != origin {
			return nil, &FileError{File: path.Join(shown, pubName), Field: "DNSKEY",
				Err: fmt.Errorf("key is for zone %s, not %s", k.DNSKEY.Hdr.Name, origin)}
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("keys %s: no keys for %s (make them with: rootline zone keygen --dir %s %s)", shown, origin, shown, origin)
	}
	return keys, nil
}

func readKeyPair(fsys fs.FS, shown, pubName, privName string) (*Key, error) {
	pubFile, privFile := path.Join(shown, pubName), path.Join(shown, privName)
	var dk *dns.DNSKEY
	err := withFile(fsys, pubName, pubFile, func(f fs.File) (err error) {
		dk, err = ParsePublic(f, pubFile)
		return err
	})
	if err != nil {
		return nil, err
	}
	var k *Key
	err = withFile(fsys, privName, privFile, func(f fs.File) (err error) {
		k, err = ParsePrivate(f, privFile, dk)
		return err
	})
	return k, err
}

// withFile opens name in fsys for read; the parsers bound what they read.
func withFile(fsys fs.FS, name, shown string, read func(fs.File) error) error {
	f, err := fsys.Open(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return &FileError{File: shown, Err: err}
	}
	defer f.Close()
	return read(f)
}
