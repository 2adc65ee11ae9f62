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
// their one-line form. Most are the one-line fields with the last one, a
// hex or base64 blob, cut anew into lines.
func (s style) multiRdata(rr dns.RR) (string, bool) {
	lb := "\n" + strings.Repeat("\t", s.rdataCol/tabWidth) + strings.Repeat(" ", s.rdataCol%tabWidth)
	f := strings.Fields(rdataText(rr))
	// blob is fields from i on, joined and cut at dig's multi-line width.
	blob := func(i int) string {
		return strings.Join(split(strings.Join(f[min(i, len(f)):], ""), digMultiChunk), lb)
	}
	head := func(n int) string { return strings.Join(f[:min(n, len(f))], " ") }
	switch v := rr.(type) {
	case *dns.SOA:
		var b strings.Builder
		b.WriteString(v.Ns + " " + v.Mbox + " (" + lb + fmt.Sprintf("%-10d ; serial", v.Serial))
		for _, t := range []struct {
			name string
			v    uint32
		}{{"refresh", v.Refresh}, {"retry", v.Retry}, {"expire", v.Expire}, {"minimum", v.Minttl}} {
			fmt.Fprintf(&b, "%s%-10d ; %s (%s)", lb, t.v, t.name, ttlWords(t.v))
		}
		b.WriteString(lb + ")")
		return b.String(), true
	case *dns.DNSKEY:
		return keyMulti(v, lb, blob(3)), true
	case *dns.CDNSKEY:
		return keyMulti(&v.DNSKEY, lb, blob(3)), true
	case *dns.RRSIG:
		if len(f) < 9 {
			return "", false
		}
		return head(4) + " (" + lb + strings.Join(f[4:8], " ") + lb + blob(8) + " )", true
	case *dns.NSEC3:
		if len(f) < 5 {
			return "", false
		}
		return head(4) + " (" + lb + f[4] + lb + strings.Join(f[5:], " ") + " )", true
	case *dns.SSHFP:
		return head(2) + " (" + lb + blob(2) + " )", true
	case *dns.DS, *dns.CDS, *dns.TLSA, *dns.SMIMEA, *dns.CERT:
		return head(3) + " (" + lb + blob(3) + " )", true
	case *dns.OPENPGPKEY:
		return "( " + blob(0) + " )", true
	case *dns.IPSECKEY:
		return "( " + head(4) + lb + blob(4) + " )", true
	case *dns.DHCID:
		// dig's comment decodes the RDATA (RFC 4701 3.1): identifier
		// type, digest type and digest length.
		comment := ""
		if b, err := base64.StdEncoding.DecodeString(v.Digest); err == nil && len(b) >= 3 {
			comment = fmt.Sprintf(" ; %d %d %d", int(b[0])<<8|int(b[1]), b[2], len(b)-3)
		}
		return "( " + blob(0) + " )" + comment, true
	case *dns.RFC3597:
		if len(f) < 3 {
			return head(2), true // \# 0
		}
		return head(2) + " ( " + blob(2) + " )", true
	}
	return "", false
}

// keyMulti is a DNSKEY or CDNSKEY over lines, key the key's lines, with
// dig's comment: KSK or ZSK (the SEP flag, RFC 4034 2.1.1), algorithm and
// key tag.
func keyMulti(k *dns.DNSKEY, lb, key string) string {
	role := "ZSK"
	if k.Flags&dns.SEP != 0 {
		role = "KSK"
	}
	alg, ok := dns.AlgorithmToString[k.Algorithm]
	if !ok {
		alg = strconv.Itoa(int(k.Algorithm))
	}
	return fmt.Sprintf("%d %d %d (%s%s%s) ; %s; alg = %s ; key id = %d", k.Flags, k.Protocol, k.Algorithm, lb, key, lb, role, alg, k.KeyTag())
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
