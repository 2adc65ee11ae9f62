package dnssec

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// Canonical RRset form (RFC 4034 6.2, 6.3), the bytes a signature covers
// after the RRSIG RDATA. Built here rather than with miekg/dns's
// RRSIG.Sign, which we checked and mostly agree with, because that one
// (a) treats any owner starting with "*" as a wildcard ("*a.example."
// is not one), (b) offers no way to sign with a labels value we compute,
// and (c) copies every record. What we do rely on from miekg/dns is
// PackRR without compression, i.e. the uncompressed wire form of each
// record (RFC 4034 6.2 (1)).
//
// For each record: owner in wire form, lower case (6.2 (2)), replaced by
// "*." plus its rightmost Labels labels when the RRSIG's Labels is smaller
// than the owner's count (the record was expanded from a wildcard, 6.2
// (4) and RFC 4035 5.3.2); names inside the RDATA of the types RFC 4034
// 6.2 (3) lists lower-cased, minus NSEC and HINFO (RFC 6840 5.1); TTL set
// to the RRSIG's Original TTL (6.2 (5)). The records are then sorted by
// their RDATA as left-justified octet strings and duplicates dropped
// (6.3).

// dnsHeaderLen is the message header that PackBuffer writes before the
// record.
const dnsHeaderLen = 12

// appendCanonicalRRset appends the canonical form of rrset to buf.
func appendCanonicalRRset(buf []byte, rrset []dns.RR, labels uint8, ttl uint32) ([]byte, error) {
	owner, err := canonicalOwner(rrset[0].Header().Name, labels)
	if err != nil {
		return buf, err
	}
	// Pack every record into one scratch arena; spans[i] is record i's
	// type..rdata part (the owner is written from owner for all).
	type span struct{ from, to int }
	var arena []byte
	var one [1]span
	spans := one[:0]
	if len(rrset) > 1 {
		spans = make([]span, 0, len(rrset))
	}
	// Records are packed inside a message, not with dns.PackRR: PackRR
	// stores the RDLENGTH it computed into the record's header, a write
	// into records the cache and concurrent validations share.
	var single [1]dns.RR
	m := dns.Msg{Answer: single[:]}
	var scratch []byte
	for _, rr := range rrset {
		single[0] = lowerRdata(rr)
		scratch = slices.Grow(scratch[:0], dns.Len(single[0])+dnsHeaderLen+16)
		packed, err := m.PackBuffer(scratch[:cap(scratch)])
		if err != nil {
			return buf, fmt.Errorf("dnssec: pack %s: %w", rr.Header().Name, err)
		}
		start := len(arena)
		arena = append(arena, packed[dnsHeaderLen:]...)
		n := len(arena)
		off := start
		for arena[off] != 0 { // skip the record's own (uncompressed) owner
			off += int(arena[off]) + 1
		}
		spans = append(spans, span{off + 1, n})
	}
	if len(spans) > 1 {
		slices.SortFunc(spans, func(a, b span) int {
			return bytes.Compare(arena[a.from+10:a.to], arena[b.from+10:b.to])
		})
	}
	for i, s := range spans {
		rec := arena[s.from:s.to]
		if i > 0 {
			p := spans[i-1]
			if bytes.Equal(arena[p.from+10:p.to], rec[10:]) {
				continue // RFC 4034 6.3: duplicates are not part of the set
			}
		}
		buf = append(buf, owner...)
		buf = append(buf, rec[:4]...) // type, class
		buf = binary.BigEndian.AppendUint32(buf, ttl)
		buf = append(buf, rec[8:]...) // rdlength, rdata
	}
	return buf, nil
}

// canonicalOwner is the owner as signed: wire form, lower case, and the
// wildcard form when labels is below the owner's label count.
func canonicalOwner(name string, labels uint8) ([]byte, error) {
	var raw [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), raw[:], 0, nil, false)
	if err != nil {
		return nil, fmt.Errorf("dnssec: owner %q: %w", name, err)
	}
	w := raw[:n]
	var offs [128]int
	count := 0
	for off := 0; w[off] != 0; off += int(w[off]) + 1 {
		offs[count] = off
		count++
	}
	if int(labels) > count {
		return nil, fmt.Errorf("dnssec: owner %s has %d labels, fewer than the signature's %d", name, count, labels)
	}
	if int(labels) < count {
		w = append([]byte{1, '*'}, w[offs[count-int(labels)]:]...)
	} else {
		w = append([]byte(nil), w...)
	}
	lowerWire(w)
	return w, nil
}

// lowerWire lower-cases the ASCII letters of a wire-form name in place.
// Label length octets are at most 63, below 'A', so they are left alone.
func lowerWire(w []byte) {
	for i, c := range w {
		if 'A' <= c && c <= 'Z' {
			w[i] = c + 'a' - 'A'
		}
	}
}

// signedLabels is the RRSIG Labels value for an owner (RFC 4034 3.1.3):
// its label count, not counting the root nor a leading "*" label.
func signedLabels(owner string) (uint8, error) {
	n := dns.CountLabel(owner)
	if n > 127 {
		return 0, fmt.Errorf("dnssec: owner %q has too many labels", owner)
	}
	if owner == "*" || strings.HasPrefix(owner, "*.") {
		n--
	}
	return uint8(n), nil
}

func hasUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return true
		}
	}
	return false
}

// lowerRdata returns rr, or a copy with the domain names in its RDATA
// lower-cased for the types RFC 4034 6.2 (3) lists (as amended by RFC 6840
// 5.1: not NSEC, not HINFO). Records already in lower case, the usual
// case, are not copied.
func lowerRdata(rr dns.RR) dns.RR {
	var names []*string
	c := func(x dns.RR) dns.RR { return dns.Copy(x) }
	switch x := rr.(type) {
	case *dns.NS:
		if hasUpper(x.Ns) {
			y := c(x).(*dns.NS)
			names = []*string{&y.Ns}
			rr = y
		}
	case *dns.CNAME:
		if hasUpper(x.Target) {
			y := c(x).(*dns.CNAME)
			names = []*string{&y.Target}
			rr = y
		}
	case *dns.DNAME:
		if hasUpper(x.Target) {
			y := c(x).(*dns.DNAME)
			names = []*string{&y.Target}
			rr = y
		}
	case *dns.PTR:
		if hasUpper(x.Ptr) {
			y := c(x).(*dns.PTR)
			names = []*string{&y.Ptr}
			rr = y
		}
	case *dns.MX:
		if hasUpper(x.Mx) {
			y := c(x).(*dns.MX)
			names = []*string{&y.Mx}
			rr = y
		}
	case *dns.SRV:
		if hasUpper(x.Target) {
			y := c(x).(*dns.SRV)
			names = []*string{&y.Target}
			rr = y
		}
	case *dns.SOA:
		if hasUpper(x.Ns) || hasUpper(x.Mbox) {
			y := c(x).(*dns.SOA)
			names = []*string{&y.Ns, &y.Mbox}
			rr = y
		}
	case *dns.MD:
		if hasUpper(x.Md) {
			y := c(x).(*dns.MD)
			names = []*string{&y.Md}
			rr = y
		}
	case *dns.MF:
		if hasUpper(x.Mf) {
			y := c(x).(*dns.MF)
			names = []*string{&y.Mf}
			rr = y
		}
	case *dns.MB:
		if hasUpper(x.Mb) {
			y := c(x).(*dns.MB)
			names = []*string{&y.Mb}
			rr = y
		}
	case *dns.MG:
		if hasUpper(x.Mg) {
			y := c(x).(*dns.MG)
			names = []*string{&y.Mg}
			rr = y
		}
	case *dns.MR:
		if hasUpper(x.Mr) {
			y := c(x).(*dns.MR)
			names = []*string{&y.Mr}
			rr = y
		}
	case *dns.MINFO:
		if hasUpper(x.Rmail) || hasUpper(x.Email) {
			y := c(x).(*dns.MINFO)
			names = []*string{&y.Rmail, &y.Email}
			rr = y
		}
	case *dns.RP:
		if hasUpper(x.Mbox) || hasUpper(x.Txt) {
			y := c(x).(*dns.RP)
			names = []*string{&y.Mbox, &y.Txt}
			rr = y
		}
	case *dns.AFSDB:
		if hasUpper(x.Hostname) {
			y := c(x).(*dns.AFSDB)
			names = []*string{&y.Hostname}
			rr = y
		}
	case *dns.RT:
		if hasUpper(x.Host) {
			y := c(x).(*dns.RT)
			names = []*string{&y.Host}
			rr = y
		}
	case *dns.PX:
		if hasUpper(x.Map822) || hasUpper(x.Mapx400) {
			y := c(x).(*dns.PX)
			names = []*string{&y.Map822, &y.Mapx400}
			rr = y
		}
	case *dns.NAPTR:
		if hasUpper(x.Replacement) {
			y := c(x).(*dns.NAPTR)
			names = []*string{&y.Replacement}
			rr = y
		}
	case *dns.KX:
		if hasUpper(x.Exchanger) {
			y := c(x).(*dns.KX)
			names = []*string{&y.Exchanger}
			rr = y
		}
	case *dns.SIG:
		if hasUpper(x.SignerName) {
			y := c(x).(*dns.SIG)
			names = []*string{&y.SignerName}
			rr = y
		}
	case *dns.RRSIG:
		if hasUpper(x.SignerName) {
			y := c(x).(*dns.RRSIG)
			names = []*string{&y.SignerName}
			rr = y
		}
	}
	for _, p := range names {
		*p = strings.ToLower(*p)
	}
	return rr
}

// CompareNames orders names canonically (RFC 4034 6.1): label by label
// from the right, each label compared as lower-case octets, a name
// sorting before the names below it. It returns -1, 0 or +1.
func CompareNames(a, b string) int {
	if strings.IndexByte(a, '\\') < 0 && strings.IndexByte(b, '\\') < 0 {
		return compareSimple(dns.Fqdn(a), dns.Fqdn(b))
	}
	wa, ea := wireLabels(a)
	wb, eb := wireLabels(b)
	if ea != nil || eb != nil {
		return strings.Compare(strings.ToLower(a), strings.ToLower(b))
	}
	for i, j := len(wa)-1, len(wb)-1; ; i, j = i-1, j-1 {
		if i < 0 || j < 0 {
			return cmp.Compare(len(wa), len(wb))
		}
		if c := compareLabel(wa[i], wb[j]); c != 0 {
			return c
		}
	}
}

// compareSimple compares fully qualified names without escapes.
func compareSimple(a, b string) int {
	ia, ib := len(a)-1, len(b)-1 // at the final dot
	for {
		if ia <= 0 || ib <= 0 {
			switch {
			case ia <= 0 && ib <= 0:
				return 0
			case ia <= 0:
				return -1
			}
			return 1
		}
		sa := strings.LastIndexByte(a[:ia], '.') + 1
		sb := strings.LastIndexByte(b[:ib], '.') + 1
		if c := compareLabel(a[sa:ia], b[sb:ib]); c != 0 {
			return c
		}
		ia, ib = sa-1, sb-1
	}
}

func compareLabel(x, y string) int {
	for k := 0; k < len(x) && k < len(y); k++ {
		cx, cy := x[k], y[k]
		if 'A' <= cx && cx <= 'Z' {
			cx += 'a' - 'A'
		}
		if 'A' <= cy && cy <= 'Z' {
			cy += 'a' - 'A'
		}
		if cx != cy {
			return cmp.Compare(int(cx), int(cy))
		}
	}
	return cmp.Compare(len(x), len(y))
}

// wireLabels splits a presentation name into its decoded labels.
func wireLabels(name string) ([]string, error) {
	var raw [256]byte
	n, err := dns.PackDomainName(dns.Fqdn(name), raw[:], 0, nil, false)
	if err != nil {
		return nil, err
	}
	var out []string
	for off := 0; off < n && raw[off] != 0; off += int(raw[off]) + 1 {
		out = append(out, string(raw[off+1:off+1+int(raw[off])]))
	}
	return out, nil
}

var errNotRRset = errors.New("dnssec: records do not form one RRset (owner, type and class must agree)")

// checkRRset verifies that rrset is non-empty and one RRset.
func checkRRset(rrset []dns.RR) error {
	if len(rrset) == 0 {
		return errors.New("dnssec: empty RRset")
	}
	h0 := rrset[0].Header()
	for _, rr := range rrset[1:] {
		h := rr.Header()
		if h.Rrtype != h0.Rrtype || h.Class != h0.Class || (h.Name != h0.Name && !strings.EqualFold(h.Name, h0.Name)) {
			return errNotRRset
		}
	}
	return nil
}
