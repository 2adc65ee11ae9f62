package main

import (
	"fmt"
	"io"
	"os"

	"github.com/rootline-dns/rootline/lab"
)

// The lab resolver's encrypted ports when not run as root: the standard
// ones, 10 thousand up, as labUserPort is for 53.
const (
	labUserTLSPort   = 10853
	labUserHTTPSPort = 10443
)

// labEncrypted picks the DoT and DoH ports: as given, else 853 and 443
// as root, else the user ports; with --port 0 (free ports) free ones too.
func labEncrypted(tlsPort, httpsPort int, dnsPort uint16) (*lab.Encrypted, error) {
	pick := func(flag string, v, root, user int) (uint16, error) {
		switch {
		case v > 65535:
			return 0, exitError{code: 2, msg: fmt.Sprintf("lab: %s %d: out of range", flag, v)}
		case v >= 0:
			return uint16(v), nil
		case dnsPort == 0:
			return 0, nil
		case os.Geteuid() == 0:
			return uint16(root), nil
		}
		return uint16(user), nil
	}
	t, err := pick("--tls-port", tlsPort, 853, labUserTLSPort)
	if err != nil {
		return nil, err
	}
	h, err := pick("--https-port", httpsPort, 443, labUserHTTPSPort)
	if err != nil {
		return nil, err
	}
	return &lab.Encrypted{TLSPort: t, HTTPSPort: h}, nil
}

// printEncrypted is the banner's part on DNS over TLS and HTTPS.
func printEncrypted(w io.Writer, l *lab.Lab, self string) {
	dot, doh := l.ResolverEncryptedAddrs()
	ca := l.CAFile()
	if !dot.IsValid() || ca == "" {
		return
	}
	fmt.Fprintf(w, `
Encrypted DNS: the resolver serves DNS over TLS on %[1]s and DNS over HTTPS on
https://%[2]s/dns-query, with a certificate for %[3]s (and %[4]s) signed by
the lab CA, made at start: %[5]s
  %[8]s lookup @%[4]s -p %[6]d +tls +tls-ca=%[5]s www.example.com
  kdig @%[4]s -p %[6]d +tls-ca=%[5]s +tls-hostname=%[3]s www.example.com
  kdig @%[4]s -p %[7]d +https +tls-ca=%[5]s +tls-hostname=%[3]s www.example.com
  curl -s --cacert %[5]s 'https://%[2]s/dns-query?dns=AAABAAABAAAAAAAAA3d3dwdleGFtcGxlA2NvbQAAAQAB' | xxd
`, dot, doh, lab.ResolverTLSName, dot.Addr(), ca, dot.Port(), doh.Port(), self)
}
