package main

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// style is how dig lays records out: BIND's master-file style, where the
// TTL, class, type and RDATA each start at a column (reached with tabs to
// the 8-column tab stops, then spaces, and at least one blank), and
// +multi spreads long RDATA over lines indented to the RDATA column.
type style struct {
	ttlCol, classCol, typeCol, rdataCol int
	noTTL, noClass, multi               bool
}

// tabWidth is the tab stop width BIND lays columns out with.
const tabWidth = 8

// digMultiChunk is the width +multi splits hex and base64 fields at
// (dig's default +split is 56, 44 in multi-line mode).
const digMultiChunk = 44

// styleFor gives dig's columns for o: narrower when the TTL or class
// column is left out, narrowest in multi-line mode.
func styleFor(o *queryOpts) style {
	s := style{ttlCol: 24, classCol: 32, typeCol: 40, rdataCol: 48, noTTL: !o.ttlid, noClass: !o.class, multi: o.multi}
	switch {
	case o.multi || (!o.ttlid && !o.class):
		s.classCol, s.typeCol, s.rdataCol = 24, 24, 32
	case !o.ttlid || !o.class:
		s.classCol, s.typeCol, s.rdataCol = 24, 32, 40
	}
	return s
}

// column moves from *col to column to, at least one blank on: tabs to
// each tab stop passed, then spaces.
func column(b *strings.Builder, col *int, to int) {
	from := *col
	to = max(to, from+1)
	if tabs := to/tabWidth - from/tabWidth; tabs > 0 {
		b.WriteString(strings.Repeat("\t", tabs))
		from = to / tabWidth * tabWidth
	}
	b.WriteString(strings.Repeat(" ", to-from))
	*col = to
}

// put writes s at column to.
func put(b *strings.Builder, col *int, to int, s string) {
	column(b, col, to)
	b.WriteString(s)
	*col += len(s)
}

// record writes rr as dig prints it in a section.
func (s style) record(b *strings.Builder, rr dns.RR) {
	h := rr.Header()
	b.WriteString(h.Name)
	col := len(h.Name)
	if !s.noTTL {
		put(b, &col, s.ttlCol, strconv.FormatUint(uint64(h.Ttl), 10))
	}
	if !s.noClass {
		put(b, &col, s.classCol, classString(h.Class))
	}
	put(b, &col, s.typeCol, typeString(h.Rrtype))
	column(b, &col, s.rdataCol)
	if s.multi {
		if text, ok := s.multiRdata(rr); ok {
			b.WriteString(text)
			return
		}
	}
	b.WriteString(rdataText(rr))
}

// question writes a question line after its ";". Its columns are counted
// from the name, as BIND does, so the ";" pushes them one place on.
func (s style) question(b *strings.Builder, q dns.Question) {
	b.WriteString(q.Name)
	col := len(q.Name)
	put(b, &col, s.classCol, classString(q.Qclass))
	put(b, &col, s.typeCol, typeString(q.Qtype))
}

// multiRdata is rr's RDATA in dig's multi-line form, for the types dig
// spreads over lines (with the comments it adds: SOA timers in words,
// DNSKEY role, algorithm and key tag); false for the others, which keep
// their one-line form.
func (s style) multiRdata(rr dns.RR) (string, bool) {
	lb := "\n" + strings.Repeat("\t", s.rdataCol/tabWidth) + strings.Repeat(" ", s.rdataCol%tabWidth)
	lines := func(parts []string) string { return strings.Join(parts, lb) }
	switch v := rr.(type) {
	case *dns.SOA:
		return fmt.Sprintf("%s %s (%s%-10d ; serial%s%-10d ; refresh (%s)%s%-10d ; retry (%s)%s%-10d ; expire (%s)%s%-10d ; minimum (%s)%s)",
			v.Ns, v.Mbox, lb, v.Serial, lb, v.Refresh, ttlWords(v.Refresh), lb, v.Retry, ttlWords(v.Retry),
			lb, v.Expire, ttlWords(v.Expire), lb, v.Minttl, ttlWords(v.Minttl), lb), true
	case *dns.DNSKEY:
		return keyMulti(v, lb), true
	case *dns.CDNSKEY:
		return keyMulti(&v.DNSKEY, lb), true
	case *dns.RRSIG:
		return fmt.Sprintf("%s %d %d %d (%s%s %s %d %s%s%s )", typeString(v.TypeCovered), v.Algorithm, v.Labels, v.OrigTtl,
			lb, dns.TimeToString(v.Expiration), dns.TimeToString(v.Inception), v.KeyTag, v.SignerName,
			lb, lines(split(v.Signature, digMultiChunk))), true
	case *dns.DS:
		return fmt.Sprintf("%d %d %d (%s%s )", v.KeyTag, v.Algorithm, v.DigestType, lb, lines(split(strings.ToUpper(v.Digest), digMultiChunk))), true
	case *dns.CDS:
		return fmt.Sprintf("%d %d %d (%s%s )", v.KeyTag, v.Algorithm, v.DigestType, lb, lines(split(strings.ToUpper(v.Digest), digMultiChunk))), true
	case *dns.NSEC3:
		salt := v.Salt
		if salt == "" {
			salt = "-"
		}
		return fmt.Sprintf("%d %d %d %s (%s%s%s%s )", v.Hash, v.Flags, v.Iterations, strings.ToUpper(salt),
			lb, strings.ToUpper(v.NextDomain), lb, typeList(v.TypeBitMap)), true
	case *dns.SSHFP:
		return fmt.Sprintf("%d %d (%s%s )", v.Algorithm, v.Type, lb, lines(split(strings.ToUpper(v.FingerPrint), digMultiChunk))), true
	case *dns.TLSA:
		return fmt.Sprintf("%d %d %d (%s%s )", v.Usage, v.Selector, v.MatchingType, lb, lines(split(strings.ToUpper(v.Certificate), digMultiChunk))), true
	case *dns.SMIMEA:
		return fmt.Sprintf("%d %d %d (%s%s )", v.Usage, v.Selector, v.MatchingType, lb, lines(split(strings.ToUpper(v.Certificate), digMultiChunk))), true
	case *dns.OPENPGPKEY:
		return "( " + lines(split(v.PublicKey, digMultiChunk)) + " )", true
	case *dns.CERT:
		t, ok := dns.CertTypeToString[v.Type]
		if !ok {
			t = strconv.Itoa(int(v.Type))
		}
		return fmt.Sprintf("%s %d %d (%s%s )", t, v.KeyTag, v.Algorithm, lb, lines(split(v.Certificate, digMultiChunk))), true
	case *dns.IPSECKEY:
		f := strings.Fields(rdataText(rr))
		if len(f) != 5 {
			return "", false
		}
		return fmt.Sprintf("( %s%s%s )", strings.Join(f[:4], " "), lb, lines(split(v.PublicKey, digMultiChunk))), true
	case *dns.DHCID:
		// dig's comment decodes the RDATA (RFC 4701 3.1): identifier
		// type, digest type and digest length.
		comment := ""
		if b, err := base64.StdEncoding.DecodeString(v.Digest); err == nil && len(b) >= 3 {
			comment = fmt.Sprintf(" ; %d %d %d", int(b[0])<<8|int(b[1]), b[2], len(b)-3)
		}
		return "( " + lines(split(v.Digest, digMultiChunk)) + " )" + comment, true
	case *dns.RFC3597:
		if v.Rdata == "" {
			return `\# 0`, true
		}
		return fmt.Sprintf(`\# %d ( %s )`, len(v.Rdata)/2, lines(split(strings.ToUpper(v.Rdata), digMultiChunk))), true
	}
	return "", false
}

// keyMulti is a DNSKEY or CDNSKEY over lines, with dig's comment: KSK or
// ZSK (the SEP flag, RFC 4034 2.1.1), algorithm and key tag.
func keyMulti(k *dns.DNSKEY, lb string) string {
	role := "ZSK"
	if k.Flags&dns.SEP != 0 {
		role = "KSK"
	}
	alg, ok := dns.AlgorithmToString[k.Algorithm]
	if !ok {
		alg = strconv.Itoa(int(k.Algorithm))
	}
	return fmt.Sprintf("%d %d %d (%s%s%s) ; %s; alg = %s ; key id = %d", k.Flags, k.Protocol, k.Algorithm,
		lb, strings.Join(split(k.PublicKey, digMultiChunk), lb), lb, role, alg, k.KeyTag())
}

// split cuts s into pieces of n characters.
func split(s string, n int) []string {
	var out []string
	for len(s) > n {
		out = append(out, s[:n])
		s = s[n:]
	}
	return append(out, s)
}

// typeList is a type bitmap in presentation form.
func typeList(types []uint16) string {
	names := make([]string, len(types))
	for i, t := range types {
		names[i] = typeString(t)
	}
	return strings.Join(names, " ")
}

// ttlWords is a duration in seconds the way BIND spells SOA timers out in
// its comments: "1 day 2 hours 3 minutes 4 seconds", zero as "0 seconds".
func ttlWords(secs uint32) string {
	units := []struct {
		n    uint32
		name string
	}{{604800, "week"}, {86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}}
	var parts []string
	for _, u := range units {
		if v := secs / u.n; v > 0 {
			p := fmt.Sprintf("%d %s", v, u.name)
			if v != 1 {
				p += "s"
			}
			parts = append(parts, p)
			secs -= v * u.n
		}
	}
	if len(parts) == 0 {
		return "0 seconds"
	}
	return strings.Join(parts, " ")
}

// unknownText is RFC 3597 section 5's generic RDATA: \# LENGTH HEX, with
// the hex in upper case and split as dig splits it.
func unknownText(v *dns.RFC3597) string {
	if v.Rdata == "" {
		return `\# 0`
	}
	if _, err := hex.DecodeString(v.Rdata); err != nil {
		return `\# ` + v.Rdata
	}
	return fmt.Sprintf(`\# %d %s`, len(v.Rdata)/2, chunk(strings.ToUpper(v.Rdata)))
}
