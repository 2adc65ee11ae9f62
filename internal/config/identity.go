package config

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// Limits on the server's identity (the server package enforces the same).
const (
	maxNSID     = 128 // bytes: rides in every reply that asks for it
	maxIdentity = 255 // one TXT character-string (RFC 1035 3.3)
	// CookieSecretLen is the size of the cookie secret, a SipHash-2-4
	// key (RFC 9018 4.4).
	CookieSecretLen = 16
)

// ParseNSID reads an nsid value: text, or hexadecimal bytes after "0x"
// (as Knot's nsid option takes them; NSD's takes hex or ascii_TEXT).
func ParseNSID(s string) ([]byte, error) {
	if h, ok := strings.CutPrefix(s, "0x"); ok {
		b, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("nsid %q: bad hexadecimal after 0x", s)
		}
		s = string(b)
	}
	if len(s) > maxNSID {
		return nil, fmt.Errorf("nsid: longer than %d bytes", maxNSID)
	}
	return []byte(s), nil
}

// ParseCookieSecret reads a cookie secret: 32 hexadecimal digits, with an
// optional 0x prefix (as Knot writes its mod-cookies secret).
func ParseCookieSecret(s string) ([CookieSecretLen]byte, error) {
	var out [CookieSecretLen]byte
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(b) != CookieSecretLen {
		return out, fmt.Errorf("cookie-secret: want %d hexadecimal digits", 2*CookieSecretLen)
	}
	copy(out[:], b)
	return out, nil
}

// checkServerID checks the identity keys both daemons share.
func checkServerID(nsid, identity, version, secret string) []error {
	var errs []error
	if _, err := ParseNSID(nsid); err != nil {
		errs = append(errs, err)
	}
	if len(identity) > maxIdentity {
		errs = append(errs, fmt.Errorf("identity: longer than %d bytes", maxIdentity))
	}
	if len(version) > maxIdentity {
		errs = append(errs, fmt.Errorf("version-string: longer than %d bytes", maxIdentity))
	}
	if secret != "" {
		if _, err := ParseCookieSecret(secret); err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}
