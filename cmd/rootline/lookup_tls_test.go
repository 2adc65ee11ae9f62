package main

import (
	"strings"
	"testing"
)

// The encrypted-transport options parse as kdig's do: the TLS settings
// imply +tls, the last transport given wins, +no... turns one off, and
// the default port follows the transport.
func TestLookupTLSOptions(t *testing.T) {
	pin := "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
	for _, tc := range []struct {
		args       []string
		mode, path string
		port       uint16
		err        string
	}{
		{args: []string{"+tls"}, mode: "tls", port: 853},
		{args: []string{"+https"}, mode: "https", port: 443},
		{args: []string{"+https=/q"}, mode: "https", path: "/q", port: 443},
		{args: []string{"+quic"}, mode: "quic", port: 853},
		{args: []string{"+tls-ca=x.pem"}, mode: "tls", port: 853},
		{args: []string{"+https", "+tls-hostname=dns.test"}, mode: "https", port: 443},
		{args: []string{"+tls-pin=" + pin}, mode: "tls", port: 853},
		{args: []string{"+tls", "+notls"}, mode: "", port: 53},
		{args: []string{"+https=dns-query"}, err: "want a path"},
		{args: []string{"+tls-hostname"}, err: "needs a name"},
		{args: []string{"+tls-pin=abc"}, err: "SHA-256"},
	} {
		a, err := parseLookupArgs(append(tc.args, "example.com"))
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: err %v, want %q", tc.args, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if a.enc.mode != tc.mode || a.enc.path != tc.path || a.defaultPort() != tc.port {
			t.Errorf("%v: mode %q path %q port %d", tc.args, a.enc.mode, a.enc.path, a.defaultPort())
		}
	}
}
