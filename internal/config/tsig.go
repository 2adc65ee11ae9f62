package config

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/rootline-dns/rootline/internal/acl"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/tsig"
)

// AuthKey is a TSIG key (RFC 8945): [[key]] in the file, --key
// [ALG:]NAME:SECRET on the command line, or read from a BIND key file
// (key-file, --key-file).
type AuthKey struct {
	Name      string `toml:"name"`
	Algorithm string `toml:"algorithm"` // empty: hmac-sha256
	Secret    string `toml:"secret"`    // base64, as tsig-keygen writes it
}

// ACL is an access list (package acl): each entry a CIDR, an address,
// key:NAME, or CIDR,key:NAME. In TOML it is an array of strings.
type ACL acl.List

// UnmarshalTOML implements toml.Unmarshaler.
func (a *ACL) UnmarshalTOML(v any) error {
	return decodeList(v, (*[]acl.Entry)(a), acl.Parse)
}

// Remote is a server we send to for a zone (a primary, a NOTIFY target)
// and the TSIG key that signs what we send it and must sign what it
// answers (empty: none).
type Remote struct {
	Addr netip.AddrPort
	Key  string // canonical key name
	// TLS: asked over DNS over TLS (XoT, RFC 9103), its certificate
	// verified for TLSName, or for Addr's address when that is empty.
	TLS     bool
	TLSName string
}

// IsValid reports whether the address is set.
func (r Remote) IsValid() bool { return r.Addr.IsValid() }

// Remotes is a list of servers, each ADDR[:PORT] or ADDR[:PORT],key:NAME
// (ParseRemote). In TOML it is an array of strings.
type Remotes []Remote

// UnmarshalTOML implements toml.Unmarshaler.
func (r *Remotes) UnmarshalTOML(v any) error {
	return decodeList(v, (*[]Remote)(r), ParseRemote)
}

// ParseRemote parses ADDR[:PORT] or ADDR[:PORT],key:NAME: the form of
// --secondary's primary and of --notify, as NSD's "request-xfr: ADDR KEY"
// and "notify: ADDR KEY" pair an address with a key. A primary may be
// tls://ADDR[:PORT][#TLS-NAME] (port 853), the encrypted forwarders'
// form, to transfer over TLS (RFC 9103).
func ParseRemote(s string) (Remote, error) {
	addr, key, signed := strings.Cut(s, ",")
	var r Remote
	if isUpstreamURL(addr) {
		u, err := ParseUpstream(addr)
		if err != nil || u.Scheme != "tls" {
			return Remote{}, fmt.Errorf("server %q: want ADDR[:PORT] or tls://ADDR[:PORT][#TLS-NAME]", s)
		}
		r = Remote{Addr: u.Addr, TLS: true, TLSName: u.Name}
	} else {
		ap, err := ParseServer(addr)
		if err != nil {
			return Remote{}, err
		}
		r.Addr = ap
	}
	if signed {
		name, ok := strings.CutPrefix(strings.TrimSpace(key), "key:")
		if !ok || name == "" || dnsname.Validate(name) != nil {
			return Remote{}, fmt.Errorf("server %q: want ADDR[:PORT],key:NAME", s)
		}
		r.Key = dnsname.Canonical(dnsname.Fqdn(name))
	}
	return r, nil
}

// ParseKeyFlag parses --key [ALG:]NAME:SECRET (dig -y's form).
func ParseKeyFlag(v string) (AuthKey, error) {
	k, err := tsig.ParseKey(v)
	if err != nil {
		return AuthKey{}, fmt.Errorf("--key: %w", err)
	}
	return AuthKey{Name: k.Name, Algorithm: k.Algorithm, Secret: v[strings.LastIndexByte(v, ':')+1:]}, nil
}

// Keyring builds the TSIG keys: Keys, and those of every key-file, read
// now (so a reload reads them again).
func (c *Auth) Keyring() (*tsig.Keyring, error) {
	keys := make([]tsig.Key, 0, len(c.Keys))
	for _, ak := range c.Keys {
		k, err := tsig.NewKey(ak.Name, ak.Algorithm, ak.Secret)
		if err != nil {
			return nil, fmt.Errorf("key: %w", err)
		}
		keys = append(keys, k)
	}
	for _, f := range c.KeyFiles {
		fk, err := tsig.ReadKeyFile(f)
		if err != nil {
			return nil, fmt.Errorf("key-file: %w", err)
		}
		keys = append(keys, fk...)
	}
	kr, err := tsig.NewKeyring(keys...)
	if err != nil {
		return nil, fmt.Errorf("key: %w", err)
	}
	return kr, nil
}

// checkKeys checks the keys and that every key an access list or server
// names is defined.
func (c *Auth) checkKeys() []error {
	var errs []error
	kr, err := c.Keyring()
	if err != nil {
		return append(errs, err)
	}
	need := func(what, name string) {
		if name != "" && kr.Key(name) == nil {
			errs = append(errs, fmt.Errorf("%s: key %s is not defined (--key or [[key]])", what, strings.TrimSuffix(name, ".")))
		}
	}
	acls := func(what string, lists ...ACL) {
		for _, l := range lists {
			for _, k := range acl.List(l).Keys() {
				need(what, k)
			}
		}
	}
	remotes := func(what string, rs Remotes) {
		for _, r := range rs {
			need(what, r.Key)
		}
	}
	acls("allow-transfer", c.AllowTransfer)
	acls("allow-notify", c.AllowNotify)
	acls("allow-update", c.AllowUpdate)
	remotes("notify", c.Notify)
	for _, z := range c.Zones {
		acls("zone "+z.Origin+": allow-transfer", z.AllowTransfer)
		acls("zone "+z.Origin+": allow-update", z.AllowUpdate)
		errs = append(errs, checkUpdatePolicy("zone "+z.Origin+": ", z.UpdatePolicy, func(k string) bool {
			return kr.Key(dnsname.Canonical(dnsname.Fqdn(k))) != nil
		})...)
		remotes("zone "+z.Origin+": notify", z.Notify)
	}
	for _, z := range c.Secondaries {
		acls("secondary "+z.Origin+": allow-transfer", z.AllowTransfer)
		acls("secondary "+z.Origin+": allow-notify", z.AllowNotify)
		remotes("secondary "+z.Origin+": notify", z.Notify)
		remotes("secondary "+z.Origin+": primaries", z.Primaries)
	}
	return errs
}
