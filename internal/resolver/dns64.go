package resolver

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnsname"
)

// DNS64 configures AAAA synthesis for IPv6-only clients behind a NAT64
// (RFC 6147): the IPv4 addresses of names without AAAA records, embedded
// in Prefix (RFC 6052).
type DNS64 struct {
	Prefix netip.Prefix
	// Exclude lists the AAAA addresses treated as absent (RFC 6147
	// 5.1.4); nil means the IPv4-mapped range ::ffff:0:0/96, which the
	// RFC says must be excluded by default.
	Exclude []netip.Prefix
}

// defaultExclude is RFC 6147 5.1.4's default: IPv4-mapped addresses are
// never useful to an IPv6-only host.
var defaultExclude = []netip.Prefix{netip.MustParsePrefix("::ffff:0:0/96")}

// noSOATTL caps a synthesized AAAA's TTL when the negative AAAA answer
// carried no SOA (RFC 6147 5.1.7: 600 seconds).
const noSOATTL = 600

// dns64 is the handler's view of a DNS64 configuration: the prefix and
// exclusions, and the reverse zone of the prefix, for PTR synthesis.
type dns64 struct {
	prefix  netip.Prefix
	exclude []netip.Prefix
	rev     string // the prefix's ip6.arpa name, canonical
}

func newDNS64(c *DNS64) (*dns64, error) {
	if c == nil {
		return nil, nil
	}
	if err := dnsname.CheckNAT64Prefix(c.Prefix); err != nil {
		return nil, err
	}
	d := &dns64{prefix: c.Prefix.Masked(), exclude: c.Exclude}
	if d.exclude == nil {
		d.exclude = defaultExclude
	}
	// The prefix's nibbles, lowest first, as in any ip6.arpa name.
	b := d.prefix.Addr().As16()
	var sb strings.Builder
	for i := d.prefix.Bits()/4 - 1; i >= 0; i-- {
		nib := b[i/2] >> 4
		if i%2 == 1 {
			nib = b[i/2] & 0xf
		}
		fmt.Fprintf(&sb, "%x.", nib)
	}
	sb.WriteString("ip6.arpa.")
	d.rev = sb.String()
	return d, nil
}

// excluded reports whether a AAAA address is one RFC 6147 5.1.4 treats as
// absent.
func (d *dns64) excluded(a netip.Addr) bool {
	for _, p := range d.exclude {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// usable returns resp's answer with excluded AAAA records removed and
// whether any AAAA record is left (so no synthesis is needed).
func (d *dns64) usable(answer []dns.RR) ([]dns.RR, bool) {
	kept, found, dropped := answer, false, false
	for i, rr := range answer {
		aaaa, ok := rr.(*dns.AAAA)
		if !ok {
			continue
		}
		a, _ := netip.AddrFromSlice(aaaa.AAAA)
		if d.excluded(a) {
			if !dropped {
				kept, dropped = append([]dns.RR(nil), answer[:i]...), true
			}
			continue
		}
		found = true
		if dropped {
			kept = append(kept, rr)
		}
	}
	return kept, found
}

// synthesize turns the A records of resp (an answer to A, its CNAME chain
// kept) into AAAA records in the prefix (RFC 6147 5.1.6-5.1.7), their
// TTLs no longer than maxTTL. It reports false when resp has no A record.
func (d *dns64) synthesize(answer []dns.RR, maxTTL uint32) ([]dns.RR, bool) {
	out := make([]dns.RR, 0, len(answer))
	found := false
	for _, rr := range answer {
		a, ok := rr.(*dns.A)
		if !ok {
			if rr.Header().Rrtype != dns.TypeRRSIG {
				out = append(out, rr)
			}
			continue
		}
		v4, ok := netip.AddrFromSlice(a.A.To4())
		if !ok {
			continue
		}
		found = true
		h := a.Hdr
		h.Rrtype, h.Rdlength = dns.TypeAAAA, 0
		h.Ttl = min(h.Ttl, maxTTL)
		out = append(out, &dns.AAAA{Hdr: h, AAAA: dnsname.EmbedIPv4(d.prefix, v4).AsSlice()})
	}
	return out, found
}

// ptrTarget returns the in-addr.arpa name that the ip6.arpa name qname
// maps to, if qname is a full address name inside the prefix (RFC 6147
// 5.3.1).
func (d *dns64) ptrTarget(qname string) (string, bool) {
	name := dnsname.Canonical(qname)
	if !strings.HasSuffix(name, d.rev) {
		return "", false
	}
	a, err := dnsname.ParseReverse(name)
	if err != nil || !a.Is6() {
		return "", false
	}
	v4, ok := dnsname.ExtractIPv4(d.prefix, a)
	if !ok {
		return "", false
	}
	return dnsname.Reverse(v4), true
}

// answerDNS64 completes m, the reply to an AAAA query whose own answer
// (resp, err) had no usable AAAA record: the A records of the same name,
// synthesized into the prefix, or false when there are none (the caller
// then gives the original answer). Synthesized data is never marked AD
// (RFC 6147 5.5: it would not validate) and carries no RRSIGs.
func (h *Handler) answerDNS64(ctx context.Context, m *dns.Msg, qq dns.Question, d *dns64, resp *Response, cd bool) bool {
	maxTTL := uint32(noSOATTL)
	if resp != nil {
		for _, rr := range resp.Ns {
			if soa, ok := rr.(*dns.SOA); ok {
				maxTTL = soa.Hdr.Ttl // the negative answer's remaining TTL (RFC 2308 5)
			}
		}
	}
	aq := qq
	aq.Qtype = dns.TypeA
	ar, err := h.r.ResolveSecure(ctx, aq, cd)
	if err != nil || ar.Rcode != dns.RcodeSuccess {
		return false
	}
	if h.r.Validating() && !cd && ar.Security == cache.Bogus {
		return false
	}
	ans, ok := d.synthesize(ar.Answer, maxTTL)
	if !ok {
		return false
	}
	m.Rcode, m.Answer, m.Ns, m.AuthenticatedData = dns.RcodeSuccess, ans, nil, false
	return true
}

// answerPTR64 completes m, the reply to a PTR query for an address in the
// prefix, with the answer for the IPv4 address's in-addr.arpa name, its
// records renamed to the question's name (RFC 6147 5.3.1). Unbound answers
// so too; RFC 6147 also allows a CNAME to the in-addr.arpa name, but a
// direct PTR serves stub resolvers that do not follow CNAMEs in reverse
// answers. It reports false when resolving the target fails.
func (h *Handler) answerPTR64(ctx context.Context, m *dns.Msg, qq dns.Question, target string, cd bool) bool {
	tq := dns.Question{Name: target, Qtype: dns.TypePTR, Qclass: dns.ClassINET}
	tr, err := h.r.ResolveSecure(ctx, tq, cd)
	if err != nil || h.r.Validating() && !cd && tr.Security == cache.Bogus {
		return false
	}
	m.Rcode = tr.Rcode
	m.Answer = make([]dns.RR, 0, len(tr.Answer))
	for _, rr := range tr.Answer {
		if dnsname.Equal(rr.Header().Name, target) {
			rr = dns.Copy(rr) // shared with the cache
			rr.Header().Name = qq.Name
		}
		m.Answer = append(m.Answer, rr)
	}
	m.Ns = append([]dns.RR(nil), tr.Ns...)
	m.AuthenticatedData = false // synthesized: it would not validate (5.5)
	return true
}

// SetDNS64 turns DNS64 on with c, or off when c is nil. A change empties
// the cache, whose fast path may hold AAAA replies made under the old
// setting.
func (h *Handler) SetDNS64(c *DNS64) error {
	d, err := newDNS64(c)
	if err != nil {
		return err
	}
	if old := h.dns64.Swap(d); !old.same(d) {
		h.r.cache.FlushAll()
	}
	return nil
}

// same reports whether d and o synthesize alike.
func (d *dns64) same(o *dns64) bool {
	if d == nil || o == nil {
		return d == o
	}
	return d.prefix == o.prefix && slices.Equal(d.exclude, o.exclude)
}

// apply64 handles the resolver's answer (resp, err) to an AAAA query
// under DNS64. It removes excluded addresses and, when no AAAA record is
// left and synth allows, completes m with synthesized records (done).
// Otherwise it returns the answer to give (unfiltered when !synth: a
// client doing its own validation gets the records as signed) and
// whether that reply may enter the packed cache: only one with real,
// unfiltered AAAA records, since the fast path serves every client alike
// and a NODATA stored there would hide the synthesis from the next
// client.
func (h *Handler) apply64(ctx context.Context, m *dns.Msg, qq dns.Question, d *dns64, resp *Response, err error, synth, cd bool) (_ *Response, pack, done bool) {
	switch {
	case err != nil || resp.Rcode != dns.RcodeSuccess && resp.Rcode != dns.RcodeNameError:
		// RFC 6147 5.1.2: an error is treated as an empty answer.
		return resp, false, synth && h.answerDNS64(ctx, m, qq, d, nil, cd)
	case resp.Rcode == dns.RcodeNameError:
		return resp, true, false // 5.1.2: NXDOMAIN stands
	case h.r.Validating() && !cd && resp.Security == cache.Bogus:
		return resp, false, false // SERVFAIL (RFC 4035 5.5)
	}
	kept, found := d.usable(resp.Answer)
	if !synth {
		// The real RRset, as signed: a validating client checks it.
		return resp, found && len(kept) == len(resp.Answer), false
	}
	if found {
		if len(kept) == len(resp.Answer) {
			return resp, true, false
		}
		f := *resp
		f.Answer, f.Sigs = kept, nil // the AAAA RRSIG covers the records removed
		return &f, false, false
	}
	return resp, false, h.answerDNS64(ctx, m, qq, d, resp, cd)
}
