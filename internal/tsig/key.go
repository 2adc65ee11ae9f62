package tsig

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// Algorithm names as they travel in the TSIG record (RFC 8945 6), in
// canonical form.
const (
	HMACMD5    = "hmac-md5.sig-alg.reg.int."
	HMACSHA1   = "hmac-sha1."
	HMACSHA224 = "hmac-sha224."
	HMACSHA256 = "hmac-sha256."
	HMACSHA384 = "hmac-sha384."
	HMACSHA512 = "hmac-sha512."
)

// DefaultAlgorithm is the algorithm of a key given without one: RFC 8945
// 6 makes hmac-sha256 mandatory to implement, and it is what tsig-keygen,
// dig -y and Knot default to.
const DefaultAlgorithm = HMACSHA256

// algorithms maps each algorithm to its hash. MD5 and SHA-1 are kept for
// peers that still use them (RFC 8945 6 lists them as optional and
// deprecated for new keys).
var algorithms = map[string]func() hash.Hash{
	HMACMD5:    md5.New,
	HMACSHA1:   sha1.New,
	HMACSHA224: sha256.New224,
	HMACSHA256: sha256.New,
	HMACSHA384: sha512.New384,
	HMACSHA512: sha512.New,
}

// Algorithm returns the canonical name of an algorithm written as dig,
// NSD, Knot or BIND write it: "hmac-sha256", "HMAC-SHA256.", "hmac-md5"
// (the short name of hmac-md5.sig-alg.reg.int).
func Algorithm(s string) (string, bool) {
	a := dnsname.Canonical(dnsname.Fqdn(strings.TrimSpace(s)))
	if a == "hmac-md5." {
		a = HMACMD5
	}
	_, ok := algorithms[a]
	return a, ok
}

// Key is a shared secret and what names it. The zero value is not a
// usable key.
type Key struct {
	Name      string // canonical, fully qualified
	Algorithm string // canonical (one of the HMAC constants)
	Secret    []byte
}

// MaxSecretLen bounds a secret: RFC 2104 keys longer than the hash's block
// are hashed first, so nothing is gained past 128 bytes (SHA-512's block),
// and a bound keeps a mistyped file from becoming a key.
const MaxSecretLen = 512

// NewKey checks and builds a key from its parts: a valid name, a known
// algorithm (empty: DefaultAlgorithm) and a base64 secret.
func NewKey(name, algorithm, secret string) (Key, error) {
	if err := dnsname.Validate(name); err != nil || name == "" {
		return Key{}, fmt.Errorf("key name %q: not a domain name", name)
	}
	k := Key{Name: dnsname.Canonical(dnsname.Fqdn(name)), Algorithm: DefaultAlgorithm}
	if algorithm != "" {
		a, ok := Algorithm(algorithm)
		if !ok {
			return Key{}, fmt.Errorf("key %s: unknown algorithm %q (want hmac-sha256, hmac-sha384, hmac-sha512, hmac-sha224, hmac-sha1 or hmac-md5)", name, algorithm)
		}
		k.Algorithm = a
	}
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(secret))
	switch {
	case err != nil:
		return Key{}, fmt.Errorf("key %s: secret is not base64: %w", name, err)
	case len(b) == 0:
		return Key{}, fmt.Errorf("key %s: empty secret", name)
	case len(b) > MaxSecretLen:
		return Key{}, fmt.Errorf("key %s: secret longer than %d bytes", name, MaxSecretLen)
	}
	k.Secret = b
	return k, nil
}

// ParseKey parses [ALG:]NAME:SECRET, dig's -y form (the secret in base64).
func ParseKey(s string) (Key, error) {
	parts := strings.Split(s, ":")
	switch len(parts) {
	case 2:
		return NewKey(parts[0], "", parts[1])
	case 3:
		return NewKey(parts[1], parts[0], parts[2])
	}
	return Key{}, errors.New("want [ALGORITHM:]NAME:SECRET, such as hmac-sha256:transfer-key:c2VjcmV0")
}

// String names the key and its algorithm, never the secret.
func (k Key) String() string { return k.Name + " (" + strings.TrimSuffix(k.Algorithm, ".") + ")" }

func (k *Key) hash() func() hash.Hash { return algorithms[k.Algorithm] }

// Keyring is a set of keys by name. A nil *Keyring holds no keys.
type Keyring struct {
	keys map[string]*Key
}

// NewKeyring returns a keyring of keys; a name given twice is an error
// (two secrets for one name would make verification depend on order).
func NewKeyring(keys ...Key) (*Keyring, error) {
	kr := &Keyring{keys: make(map[string]*Key, len(keys))}
	for i := range keys {
		k := keys[i]
		if _, ok := kr.keys[k.Name]; ok {
			return nil, fmt.Errorf("key %s defined twice", k.Name)
		}
		if k.hash() == nil {
			return nil, fmt.Errorf("key %s: unknown algorithm %q", k.Name, k.Algorithm)
		}
		kr.keys[k.Name] = &k
	}
	return kr, nil
}

// Key returns the key called name (any case, with or without the final
// dot).
func (kr *Keyring) Key(name string) *Key {
	if kr == nil {
		return nil
	}
	return kr.keys[dnsname.Canonical(dnsname.Fqdn(name))]
}

// Len is the number of keys.
func (kr *Keyring) Len() int {
	if kr == nil {
		return 0
	}
	return len(kr.keys)
}
