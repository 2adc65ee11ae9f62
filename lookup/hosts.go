package lookup

import (
	"bufio"
	"fmt"
	"io"
	"net/netip"
	"strings"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

const (
	// maxHostsBytes bounds how much of a hosts file is read. Blocklist
	// hosts files reach tens of MiB; 64 MiB covers them without letting a
	// runaway file exhaust memory.
	maxHostsBytes = 64 << 20
	// maxHostsLine bounds one line (many aliases on one address).
	maxHostsLine = 64 << 10
)

// Hosts is a parsed hosts(5) file: names to addresses and back. It is
// immutable after parsing and safe for concurrent use.
type Hosts struct {
	byName map[string][]netip.Addr // canonical name -> addresses, file order
	byAddr map[netip.Addr][]string // address -> names as written, file order
}

// ParseHosts reads hosts(5) text: "ADDRESS NAME [ALIAS...]" lines, '#'
// comments. Lines with an unparseable address or invalid names are skipped
// (as glibc does); only I/O errors and over-long lines are errors.
func ParseHosts(r io.Reader) (*Hosts, error) {
	h := &Hosts{byName: map[string][]netip.Addr{}, byAddr: map[netip.Addr][]string{}}
	sc := bufio.NewScanner(io.LimitReader(r, maxHostsBytes))
	sc.Buffer(make([]byte, 0, 4096), maxHostsLine)
	for sc.Scan() {
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		f := strings.Fields(text)
		if len(f) < 2 {
			continue
		}
		a, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		a = a.WithZone("") // a zone is an interface, not part of a lookup answer
		for _, name := range f[1:] {
			if dnsname.Validate(name) != nil {
				continue
			}
			key := dnsname.Canonical(name)
			if !contains(h.byName[key], a) {
				h.byName[key] = append(h.byName[key], a)
			}
			fq := dnsname.Fqdn(name)
			if !containsName(h.byAddr[a], fq) {
				h.byAddr[a] = append(h.byAddr[a], fq)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("hosts: %w", err)
	}
	return h, nil
}

// Addrs returns the addresses listed for name (case-insensitive; a trailing
// dot is optional).
func (h *Hosts) Addrs(name string) []netip.Addr {
	if h == nil {
		return nil
	}
	return h.byName[dnsname.Canonical(name)]
}

// Names returns the names listed for an address, fully qualified, in file
// order.
func (h *Hosts) Names(a netip.Addr) []string {
	if h == nil {
		return nil
	}
	return h.byAddr[a.WithZone("")]
}

func contains(as []netip.Addr, a netip.Addr) bool {
	for _, x := range as {
		if x == a {
			return true
		}
	}
	return false
}

func containsName(ns []string, n string) bool {
	for _, x := range ns {
		if dnsname.Equal(x, n) {
			return true
		}
	}
	return false
}
