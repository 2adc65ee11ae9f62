package config

import (
	"strings"
	"testing"
)

// TestParseListenSaysWhatIsWrong: the error of a bad listen address names
// the part that is wrong.
func TestParseListenSaysWhatIsWrong(t *testing.T) {
	tests := []struct{ in, want string }{
		{"999.1.1.1:5300", `"999.1.1.1:5300": 999.1.1.1 is not an IP address (IPv4 field has value >255)`},
		{"localhost:5300", `"localhost:5300": localhost is a host name; give an IP address, such as 127.0.0.1:5300 or [::1]:5300`},
		{"ns1.example.com:53", `"ns1.example.com:53": ns1.example.com is a host name; give an IP address, such as 127.0.0.1:53 or [::1]:53`},
		{"127.0.0.1", `"127.0.0.1": the port is missing: 127.0.0.1:53, say`},
		{"::1", `"::1": the port is missing (an IPv6 address with a port is written [::1]:53)`},
		{"[::1]", `"[::1]": the port is missing (an IPv6 address with a port is written [::1]:53)`},
		{"127.0.0.1:99999", `"127.0.0.1:99999": port "99999" is not a number from 0 to 65535`},
		{"127.0.0.1:dns", `"127.0.0.1:dns": port "dns" is not a number from 0 to 65535`},
		{"1.2.3:53", `"1.2.3:53": 1.2.3 is not an IP address (IPv4 address too short)`},
		{"", `"": empty address; want ADDR:PORT such as 127.0.0.1:53 or [::1]:53`},
	}
	for _, tc := range tests {
		_, err := ParseListen(tc.in)
		if err == nil || err.Error() != tc.want {
			t.Errorf("ParseListen(%q) = %v\nwant %s", tc.in, err, tc.want)
		}
	}
	for _, good := range []string{"127.0.0.1:53", "[::1]:5300", "0.0.0.0:0"} {
		if _, err := ParseListen(good); err != nil {
			t.Errorf("ParseListen(%q): %v", good, err)
		}
	}
	if _, err := ParseAddr("localhost"); err == nil || !strings.Contains(err.Error(), "localhost is a host name") {
		t.Errorf("ParseAddr(localhost) = %v", err)
	}
	if _, err := ParseServer("dns.example:53"); err == nil || !strings.Contains(err.Error(), "dns.example is a host name") {
		t.Errorf("ParseServer(dns.example:53) = %v", err)
	}
}
