package server

import (
	"context"
	"encoding/binary"
	"errors"
	"hash/maphash"
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/rootline-dns/rootline/internal/wire"
)

// Response rate limiting (RRL), as BIND, NSD and Knot do it: an
// authoritative server answering UDP queries with forged sources is an
// amplifier aimed at the forged address. Responses are counted per client
// prefix and per kind of answer in token buckets; past the rate, every
// slip-th response goes out empty with TC set (a real client retries
// over TCP, which proves its address) and the others are dropped.
// TCP is never limited, and neither is a query with a valid server cookie
// (its source address is proven too).

// RRL defaults, BIND's (rate-limit { window 15; slip 2; ipv4-prefix-length
// 24; ipv6-prefix-length 56; }), which NSD's share.
const (
	DefaultRRLWindow     = 15 * time.Second
	DefaultRRLSlip       = 2
	DefaultRRLIPv4Prefix = 24
	DefaultRRLIPv6Prefix = 56
	// DefaultRRLTableSize bounds the buckets tracked at once: 64 Ki of
	// 24 bytes (1.5 MiB). BIND's max-table-size is 20000; a flood from
	// more prefixes than this evicts the least recently used, which can
	// only let through responses to prefixes that were just evicted.
	DefaultRRLTableSize = 1 << 16

	rrlWays = 4 // entries per set: a new key evicts the oldest of its set
	// maxRRLRate keeps a bucket's arithmetic in 32 bits; a million
	// responses a second to one prefix is no limit at all.
	maxRRLRate = 1_000_000
)

// RRLConfig configures response rate limiting; Rate 0 turns it off.
type RRLConfig struct {
	Rate       int           // responses per second per bucket
	Slip       int           // every Slip-th limited response is sent truncated; 0: drop them all
	Window     time.Duration // how far into debt a bucket may go: rate x window responses
	IPv4Prefix int           // client prefix lengths that share a bucket
	IPv6Prefix int
	TableSize  int              // buckets tracked; rounded up to a power of two
	Now        func() time.Time // time.Now if nil
	// Observe, if set, is told of each response dropped (EventRRLDrop)
	// or slipped (EventRRLSlip).
	Observe func(Event, Proto)
}

// Check reports what is wrong with c.
func (c *RRLConfig) Check() error {
	switch {
	case c.Rate < 0:
		return errors.New("rrl-rate: must not be negative")
	case c.Slip < 0 || c.Slip > 10:
		return errors.New("rrl-slip: want 0 to 10")
	case c.Window < 0:
		return errors.New("rrl-window: must not be negative")
	case c.IPv4Prefix < 0 || c.IPv4Prefix > 32:
		return errors.New("rrl-ipv4-prefix: want 0 to 32")
	case c.IPv6Prefix < 0 || c.IPv6Prefix > 128:
		return errors.New("rrl-ipv6-prefix: want 0 to 128")
	}
	return nil
}

// RRL kinds of response, BIND's categories: each is limited on its own,
// so a flood of one kind does not starve the others for a client.
const (
	rrlAnswer   = iota // NOERROR with data
	rrlNoData          // NOERROR, no data: keyed by the zone, not the name
	rrlNXDomain        // keyed by the zone: random names share a bucket
	rrlReferral        // keyed by the delegation
	rrlError           // every other rcode: keyed by the client alone
)

// RRL is the rate limiter. Its table is fixed in size and sharded by
// set; a response costs one hash, one lock and a few comparisons.
type RRL struct {
	cfg   RRLConfig
	seed  maphash.Seed
	mask  uint64 // sets - 1
	sets  []rrlSet
	epoch time.Time
}

type rrlSet struct {
	mu sync.Mutex
	e  [rrlWays]rrlEntry
}

// rrlEntry is one bucket. tokens is in responses; it refills to rate each
// second and may fall to -rate x window.
type rrlEntry struct {
	key    uint64 // 0: free
	tokens int32
	slip   int32
	second uint32 // seconds since the RRL's epoch, of the last refill
}

// NewRRL returns a limiter with cfg's zero fields set to the defaults,
// or nil when cfg.Rate is 0.
func NewRRL(cfg RRLConfig) *RRL {
	if cfg.Rate <= 0 {
		return nil
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultRRLWindow
	}
	if cfg.IPv4Prefix == 0 {
		cfg.IPv4Prefix = DefaultRRLIPv4Prefix
	}
	if cfg.IPv6Prefix == 0 {
		cfg.IPv6Prefix = DefaultRRLIPv6Prefix
	}
	if cfg.TableSize <= 0 {
		cfg.TableSize = DefaultRRLTableSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	sets := 1
	for sets*rrlWays < cfg.TableSize {
		sets <<= 1
	}
	return &RRL{cfg: cfg, seed: maphash.MakeSeed(), mask: uint64(sets - 1), sets: make([]rrlSet, sets), epoch: cfg.Now()}
}

// Middleware limits the handler's UDP responses. It belongs outside
// Options, whose verdict on the query's cookie it reads once the reply is
// made. A nil RRL passes every response.
func (l *RRL) Middleware() Middleware {
	return func(next Handler) Handler {
		if l == nil {
			return next
		}
		return HandlerFunc(func(ctx context.Context, req *Request, out []byte) []byte {
			reply := next.ServeDNS(ctx, req, out)
			// A valid cookie or TSIG proves the client's address, and
			// cutting a signed reply would break its signature.
			if req.Proto != UDP || len(reply) < wire.HeaderLen || req.CookieValid() || req.TSIGKey != "" {
				return reply
			}
			switch l.account(req.Remote.Addr(), reply) {
			case rrlPass:
				return reply
			case rrlSlip:
				l.observe(EventRRLSlip)
				return wire.Shrink(inOut(reply, out))
			}
			l.observe(EventRRLDrop)
			return nil
		})
	}
}

func (l *RRL) observe(e Event) {
	if l.cfg.Observe != nil {
		l.cfg.Observe(e, UDP)
	}
}

// Verdicts of account.
const (
	rrlPass = iota
	rrlSlip
	rrlDrop
)

// account charges reply to its bucket and says what to do with it.
func (l *RRL) account(client netip.Addr, reply []byte) int {
	key := l.key(client, reply)
	now := uint32(l.cfg.Now().Sub(l.epoch) / time.Second)
	set := &l.sets[key&l.mask]
	rate := int32(min(l.cfg.Rate, maxRRLRate))
	floor := int32(max(-int64(rate)*int64(l.cfg.Window/time.Second), math.MinInt32))

	set.mu.Lock()
	defer set.mu.Unlock()
	e := set.find(key, now, rate)
	if elapsed := int64(now) - int64(e.second); elapsed > 0 {
		// Refill: rate per second elapsed, up to one second's worth.
		t := int64(e.tokens) + elapsed*int64(rate)
		e.tokens = int32(min(t, int64(rate)))
		e.second = now
	}
	e.tokens--
	if e.tokens >= 0 {
		return rrlPass
	}
	if e.tokens < floor {
		e.tokens = floor
	}
	if l.cfg.Slip > 0 {
		e.slip++
		if e.slip >= int32(l.cfg.Slip) {
			e.slip = 0
			return rrlSlip
		}
	}
	return rrlDrop
}

// find returns key's entry in the set, taking a free one or evicting the
// one refilled longest ago when key is new.
func (s *rrlSet) find(key uint64, now uint32, rate int32) *rrlEntry {
	victim := 0
	for i := range s.e {
		e := &s.e[i]
		if e.key == key {
			return e
		}
		if v := &s.e[victim]; v.key != 0 && (e.key == 0 || e.second < v.second) {
			victim = i
		}
	}
	s.e[victim] = rrlEntry{key: key, tokens: rate, second: now}
	return &s.e[victim]
}

// key hashes the bucket of a response: the client's prefix, the kind of
// response and the name it is about (the question for answers, the zone
// or delegation from the authority section for negative answers and
// referrals, none for errors).
func (l *RRL) key(client netip.Addr, reply []byte) uint64 {
	var buf [16 + 1 + 2 + 255]byte
	client = client.Unmap()
	var n int
	if client.Is4() {
		p, _ := client.Prefix(l.cfg.IPv4Prefix)
		a := p.Addr().As4()
		n = copy(buf[:], a[:])
	} else {
		p, _ := client.Prefix(l.cfg.IPv6Prefix)
		a := p.Addr().As16()
		n = copy(buf[:], a[:])
	}
	kind, name := classifyRRL(reply)
	buf[n] = kind
	n++
	switch kind {
	case rrlAnswer:
		// The question's type too: A and AAAA floods are separate.
		qtype := questionType(reply)
		buf[n], buf[n+1] = byte(qtype>>8), byte(qtype)
		n += 2
		n += appendLowerName(buf[n:], reply, name)
	case rrlNoData, rrlNXDomain, rrlReferral:
		n += appendLowerName(buf[n:], reply, name)
	}
	h := maphash.Bytes(l.seed, buf[:n])
	if h == 0 {
		h = 1 // 0 marks a free entry
	}
	return h
}

// classifyRRL reads a reply's kind and the offset of the name its bucket
// is keyed by (-1: none).
func classifyRRL(reply []byte) (kind byte, name int) {
	flags := binary.BigEndian.Uint16(reply[2:])
	rcode := flags & 0xF
	an, ns := binary.BigEndian.Uint16(reply[6:]), binary.BigEndian.Uint16(reply[8:])
	qd := binary.BigEndian.Uint16(reply[4:])
	off := wire.HeaderLen
	for range qd {
		end := wire.SkipName(reply, off)
		if end < 0 {
			return rrlError, -1
		}
		off = end + 4
	}
	question := -1
	if qd > 0 {
		question = wire.HeaderLen
	}
	switch {
	case rcode == 3:
		kind = rrlNXDomain
	case rcode != 0:
		return rrlError, -1
	case an > 0:
		return rrlAnswer, question
	case flags&wire.FlagAA == 0 && ns > 0:
		kind = rrlReferral
	default:
		kind = rrlNoData
	}
	// The first authority record's owner: the SOA's (the zone) or the
	// NS set's (the delegation). an is 0 here but for NXDOMAIN after a
	// CNAME chain, whose records are skipped.
	for range an {
		end := wire.SkipName(reply, off)
		if end < 0 || end+10 > len(reply) {
			return kind, question
		}
		off = end + 10 + int(binary.BigEndian.Uint16(reply[end+8:]))
	}
	if ns == 0 || off >= len(reply) {
		return kind, question
	}
	return kind, off
}

func questionType(reply []byte) uint16 {
	if binary.BigEndian.Uint16(reply[4:]) == 0 {
		return 0
	}
	end := wire.SkipName(reply, wire.HeaderLen)
	if end < 0 || end+2 > len(reply) {
		return 0
	}
	return binary.BigEndian.Uint16(reply[end:])
}

// appendLowerName writes the name at off in msg into dst in lower case,
// following compression pointers (at most maxPointers of them, so a loop
// ends), and returns the bytes written; off < 0 writes nothing.
func appendLowerName(dst, msg []byte, off int) int {
	const maxPointers = 16
	n, hops := 0, 0
	for off >= 0 && off < len(msg) {
		l := int(msg[off])
		switch {
		case l == 0:
			return n
		case l&0xC0 == 0xC0:
			if off+1 >= len(msg) || hops == maxPointers {
				return n
			}
			hops++
			off = int(binary.BigEndian.Uint16(msg[off:]) & 0x3FFF)
			continue
		case l&0xC0 != 0 || off+1+l > len(msg) || n+1+l > len(dst):
			return n
		}
		dst[n] = byte(l)
		for i := 1; i <= l; i++ {
			dst[n+i] = lowerASCII(msg[off+i])
		}
		n += 1 + l
		off += 1 + l
	}
	return n
}
