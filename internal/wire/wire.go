package wire

import (
	"crypto/rand"
	"encoding/binary"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

const (
	// MinUDPSize is what a client without EDNS may receive (RFC 1035 4.2.1).
	MinUDPSize = 512
	// DefaultEDNSSize is the buffer we advertise and cap replies at: the
	// DNS Flag Day 2020 value, which avoids IP fragmentation on real paths.
	DefaultEDNSSize = 1232
	// MaxMsgSize is the largest DNS message (two-byte TCP length prefix).
	MaxMsgSize = 65535
)

// NewID returns a query ID from the system's CSPRNG (RFC 5452 9.2: an
// off-path attacker must guess it).
func NewID() uint16 {
	var b [2]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("wire: crypto/rand failed: " + err.Error()) // cannot happen on Linux
	}
	return binary.BigEndian.Uint16(b[:])
}

// UDPSize is the reply size a UDP query allows: the EDNS0 buffer size
// clamped to [512, limit] (RFC 6891 6.2.5), or 512 without EDNS.
func UDPSize(req *dns.Msg, limit int) int {
	opt := req.IsEdns0()
	if opt == nil {
		return MinUDPSize
	}
	return ClampUDPSize(int(opt.UDPSize()), limit)
}

// ClampUDPSize clamps an advertised EDNS buffer size to [512, limit].
func ClampUDPSize(size, limit int) int {
	size = max(size, MinUDPSize)
	if limit > 0 {
		size = min(size, limit)
	}
	return size
}

// Truncate makes m fit in size bytes when packed. Unlike dns.Msg.Truncate it
// drops whole RRsets, never part of one (RFC 2181 9), and sets TC only when
// answer or authority data had to go (RFC 6891 7: dropping additional data
// alone, other than OPT, does not set TC). The OPT record is kept.
func Truncate(m *dns.Msg, size int) {
	if m.Len() <= size {
		return
	}
	opt := m.IsEdns0()
	extra := m.Extra[:0]
	for _, rr := range m.Extra {
		if rr.Header().Rrtype != dns.TypeOPT {
			extra = append(extra, rr)
		}
	}
	// Drop additional RRsets from the end first.
	for len(extra) > 0 {
		extra = dropLastSet(extra)
		m.Extra = withOpt(extra, opt)
		if m.Len() <= size {
			return
		}
	}
	m.Extra = withOpt(nil, opt)
	if m.Len() <= size {
		return
	}
	m.Truncated = true
	for len(m.Ns) > 0 {
		m.Ns = dropLastSet(m.Ns)
		if m.Len() <= size {
			return
		}
	}
	for len(m.Answer) > 0 {
		m.Answer = dropLastSet(m.Answer)
		if m.Len() <= size {
			return
		}
	}
}

func withOpt(rrs []dns.RR, opt *dns.OPT) []dns.RR {
	if opt != nil {
		return append(rrs, opt)
	}
	return rrs
}

// dropLastSet removes the trailing records that share the last record's
// owner, type and class: one RRset.
func dropLastSet(rrs []dns.RR) []dns.RR {
	last := rrs[len(rrs)-1].Header()
	i := len(rrs) - 1
	for i > 0 {
		h := rrs[i-1].Header()
		if h.Rrtype != last.Rrtype || h.Class != last.Class || !dnsname.Equal(h.Name, last.Name) {
			break
		}
		i--
	}
	return rrs[:i]
}
