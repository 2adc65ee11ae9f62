package xfr

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/zone"
)

// maxPayload bounds the records of one outgoing transfer message, counted
// uncompressed. A message must fit the 65535 bytes of a TCP frame (RFC
// 5936 2.2 lets a server use up to that); compression only shrinks it, so
// staying under 64000 uncompressed leaves room for the header, question
// and OPT record and never fails to pack. A record larger than this alone
// (a huge TXT or key) travels in a message of its own.
const maxPayload = 64000

// ErrNoStream is returned when a transfer needs several messages and the
// transport cannot send them (UDP).
var ErrNoStream = errors.New("xfr: transport cannot send several messages")

// axfrRecords yields the zone as an AXFR carries it (RFC 5936 2.2): the
// SOA, every other record in canonical name order, and the SOA again.
// names is z.Names(), or the same list computed before.
func axfrRecords(z *zone.Zone, names []string) iter.Seq[dns.RR] {
	if names == nil {
		names = z.Names()
	}
	return func(yield func(dns.RR) bool) {
		if !yield(z.SOA) {
			return
		}
		for _, name := range names {
			n := z.Node(name)
			for _, set := range n.Sets {
				if set.Type == dns.TypeSOA {
					continue
				}
				for _, rr := range set.RRs {
					if !yield(rr) {
						return
					}
				}
			}
		}
		yield(z.SOA)
	}
}

// ixfrRecords yields an incremental answer (RFC 1995 4): the current SOA,
// then for each diff the old SOA, the deletions, the new SOA and the
// additions, and the current SOA again.
func ixfrRecords(current *dns.SOA, diffs []Diff) iter.Seq[dns.RR] {
	return func(yield func(dns.RR) bool) {
		if !yield(current) {
			return
		}
		for _, d := range diffs {
			if !yield(d.From) {
				return
			}
			for _, rr := range d.Deleted {
				if !yield(rr) {
					return
				}
			}
			if !yield(d.To) {
				return
			}
			for _, rr := range d.Added {
				if !yield(rr) {
					return
				}
			}
		}
		yield(current)
	}
}

// chunker packs a stream of records into transfer messages of at most
// maxPayload bytes of records each. Every message but the last goes to
// send as soon as it is full; finish packs the last into out, so the
// handler returns it as its reply.
type chunker struct {
	ctx   context.Context
	start func() *dns.Msg // a reply with header, question and OPT
	send  func([]byte) error
	buf   []byte // packing buffer for streamed messages

	cur  []dns.RR
	size int
	sent int // messages streamed
}

func (c *chunker) add(rr dns.RR) error {
	n := dns.Len(rr)
	if len(c.cur) > 0 && c.size+n > maxPayload {
		if err := c.flush(); err != nil {
			return err
		}
	}
	c.cur = append(c.cur, rr)
	c.size += n
	return nil
}

// flush streams the records gathered so far as one message.
func (c *chunker) flush() error {
	if c.send == nil {
		return ErrNoStream
	}
	if err := c.ctx.Err(); err != nil {
		return err
	}
	m := c.start()
	m.Answer = c.cur
	b, err := m.PackBuffer(c.buf)
	if err != nil {
		return fmt.Errorf("xfr: pack message %d: %w", c.sent+1, err)
	}
	if err := c.send(b); err != nil {
		return fmt.Errorf("xfr: send message %d: %w", c.sent+1, err)
	}
	c.sent++
	c.cur, c.size = c.cur[:0], 0
	return nil
}

// finish packs the last message into out.
func (c *chunker) finish(out []byte) ([]byte, error) {
	m := c.start()
	m.Answer = c.cur
	b, err := m.PackBuffer(out)
	if err != nil {
		return nil, fmt.Errorf("xfr: pack last message: %w", err)
	}
	return b, nil
}

// pack runs rrs through a chunker.
func pack(ctx context.Context, start func() *dns.Msg, send func([]byte) error, rrs iter.Seq[dns.RR], out []byte) ([]byte, error) {
	c := &chunker{ctx: ctx, start: start, send: send}
	if send != nil {
		c.buf = make([]byte, dns.MaxMsgSize)
	}
	for rr := range rrs {
		if err := c.add(rr); err != nil {
			return nil, err
		}
	}
	return c.finish(out)
}
