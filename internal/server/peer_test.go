package server

import (
	"context"
	"net/netip"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// TestDigAndKdig queries the server with the two common client tools, over
// UDP and TCP, on IPv4 and IPv6 loopback: tools no one here wrote must
// accept our framing, IDs and reply sources.
func TestDigAndKdig(t *testing.T) {
	dig := requirePeer(t, "/usr/bin/dig")
	kdig := requirePeer(t, "/usr/bin/kdig")
	s := startServer(t, Config{UDPSockets: 2}, testHandler())
	udp, _ := s.Addrs()
	type tool struct {
		name string
		args func(a netip.AddrPort, tcp bool) []string
	}
	tools := []tool{
		{"dig", func(a netip.AddrPort, tcp bool) []string {
			args := []string{dig, "@" + a.Addr().String(), "-p", strconv.Itoa(int(a.Port())), "+tries=1", "+time=3", "www.example.test.", "A"}
			if tcp {
				args = append(args, "+tcp")
			}
			return args
		}},
		{"kdig", func(a netip.AddrPort, tcp bool) []string {
			args := []string{kdig, "@" + a.Addr().String(), "-p", strconv.Itoa(int(a.Port())), "+retry=0", "+timeout=3", "www.example.test.", "A"}
			if tcp {
				args = append(args, "+tcp")
			}
			return args
		}},
	}
	for _, tl := range tools {
		for _, a := range udp {
			for _, tcp := range []bool{false, true} {
				proto := map[bool]string{false: "udp", true: "tcp"}[tcp]
				t.Run(tl.name+"/"+proto+"/"+a.Addr().String(), func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), 3*testTimeout)
					defer cancel()
					args := tl.args(a, tcp)
					out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
					if err != nil {
						t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
					}
					text := string(out)
					for _, want := range []string{"NOERROR", "192.0.2.1", `"` + proto + `"`, `"` + a.String() + `"`} {
						if !strings.Contains(text, want) {
							t.Errorf("output lacks %q:\n%s", want, text)
						}
					}
				})
			}
		}
	}
}
