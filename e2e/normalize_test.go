package e2e

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"

	"github.com/miekg/dns"
)

// normalize renders an outcome as text that is equal for two servers
// exactly when their answers are equivalent: the ID is reduced to whether
// it echoes the query's, TTLs are kept (they must match), records within an
// RRset are sorted (RFC 2181 5: an RRset has no order), RRsets keep their
// order in the answer section (a CNAME chain reads in order) but are sorted
// in authority and additional (their order carries no meaning), and EDNS
// options such as NSID are dropped. With fold, domain names are lowercased
// so that case differences can be counted apart from real ones.
func normalize(o outcome, queryID uint16, fold bool) string {
	switch {
	case o.silent:
		return "NO REPLY\n"
	case o.closed != "":
		return "TCP: " + o.closed + "\n"
	}
	var b strings.Builder
	if len(o.reply) >= 2 && binary.BigEndian.Uint16(o.reply) != queryID {
		b.WriteString("ID MISMATCH\n")
	}
	m := new(dns.Msg)
	if err := m.Unpack(o.reply); err != nil {
		fmt.Fprintf(&b, "UNPARSEABLE reply (%d bytes): %v\n", len(o.reply), err)
		return b.String()
	}
	fmt.Fprintf(&b, "%s %s flags:%s\n", opcodeString(m.Opcode), rcodeString(m.Rcode), flagString(m))
	for _, q := range m.Question {
		name := q.Name
		if fold {
			name = strings.ToLower(name)
		}
		fmt.Fprintf(&b, "Q %s %s %s\n", name, classString(q.Qclass), typeString(q.Qtype))
	}
	writeSection(&b, "AN", m.Answer, fold, false)
	writeSection(&b, "NS", m.Ns, fold, true)
	var extra []dns.RR
	for _, rr := range m.Extra {
		if opt, ok := rr.(*dns.OPT); ok {
			do := 0
			if opt.Do() {
				do = 1
			}
			// The TTL field also carries the extended rcode (merged into
			// the rcode above) and the remaining flag bits.
			fmt.Fprintf(&b, "EDNS v%d do=%d z=%#x udp=%d name=%q\n", opt.Version(), do, opt.Z(), opt.UDPSize(), opt.Hdr.Name)
			continue
		}
		extra = append(extra, rr)
	}
	writeSection(&b, "AR", extra, fold, true)
	return b.String()
}

// writeSection writes rrs grouped into RRsets, each set's records sorted.
func writeSection(b *strings.Builder, tag string, rrs []dns.RR, fold, sortSets bool) {
	type rrset struct {
		key   string
		lines []string
	}
	var sets []*rrset
	index := map[string]*rrset{}
	for _, rr := range rrs {
		h := rr.Header()
		key := strings.ToLower(h.Name) + " " + classString(h.Class) + " " + typeString(h.Rrtype)
		s := index[key]
		if s == nil {
			s = &rrset{key: key}
			index[key] = s
			sets = append(sets, s)
		}
		s.lines = append(s.lines, rrString(rr, fold))
	}
	if sortSets {
		slices.SortFunc(sets, func(x, y *rrset) int { return strings.Compare(x.key, y.key) })
	}
	for _, s := range sets {
		slices.Sort(s.lines)
		for _, l := range s.lines {
			fmt.Fprintf(b, "%s %s\n", tag, l)
		}
	}
}

// rrString prints rr with tabs turned to spaces; with fold, the owner and
// the domain names in the data of the common types are lowercased (names
// in the data can take the query's case through DNAME synthesis).
func rrString(rr dns.RR, fold bool) string {
	if fold {
		rr = dns.Copy(rr)
		h := rr.Header()
		h.Name = strings.ToLower(h.Name)
		switch v := rr.(type) {
		case *dns.CNAME:
			v.Target = strings.ToLower(v.Target)
		case *dns.DNAME:
			v.Target = strings.ToLower(v.Target)
		case *dns.NS:
			v.Ns = strings.ToLower(v.Ns)
		case *dns.PTR:
			v.Ptr = strings.ToLower(v.Ptr)
		case *dns.MX:
			v.Mx = strings.ToLower(v.Mx)
		case *dns.SRV:
			v.Target = strings.ToLower(v.Target)
		case *dns.SOA:
			v.Ns = strings.ToLower(v.Ns)
			v.Mbox = strings.ToLower(v.Mbox)
		}
	}
	return strings.ReplaceAll(rr.String(), "\t", " ")
}

func flagString(m *dns.Msg) string {
	var f []string
	for _, x := range []struct {
		on   bool
		name string
	}{
		{m.Response, "qr"}, {m.Authoritative, "aa"}, {m.Truncated, "tc"},
		{m.RecursionDesired, "rd"}, {m.RecursionAvailable, "ra"}, {m.Zero, "z"},
		{m.AuthenticatedData, "ad"}, {m.CheckingDisabled, "cd"},
	} {
		if x.on {
			f = append(f, x.name)
		}
	}
	return strings.Join(f, ",")
}

func opcodeString(op int) string {
	if s, ok := dns.OpcodeToString[op]; ok {
		return s
	}
	return fmt.Sprintf("OPCODE%d", op)
}

func rcodeString(rc int) string {
	// 16 is BADVERS in an OPT-carrying reply (RFC 6891 9) and BADSIG only
	// in TSIG records; miekg/dns's table names it BADSIG.
	if rc == dns.RcodeBadVers {
		return "BADVERS"
	}
	if s, ok := dns.RcodeToString[rc]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rc)
}

func classString(c uint16) string {
	if s, ok := dns.ClassToString[c]; ok {
		return s
	}
	return fmt.Sprintf("CLASS%d", c)
}

func typeString(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return fmt.Sprintf("TYPE%d", t)
}

// lineDiff renders want and got side by side as a compact diff: lines only
// in want start with "-", lines only in got with "+", shared ones with " ".
func lineDiff(want, got string) string {
	wl := strings.Split(strings.TrimSuffix(want, "\n"), "\n")
	gl := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	inGot := map[string]int{}
	for _, l := range gl {
		inGot[l]++
	}
	inWant := map[string]int{}
	for _, l := range wl {
		inWant[l]++
	}
	var b strings.Builder
	for _, l := range wl {
		if inGot[l] > 0 {
			inGot[l]--
			fmt.Fprintf(&b, "      %s\n", l)
		} else {
			fmt.Fprintf(&b, "    - %s\n", l)
		}
	}
	for _, l := range gl {
		if inWant[l] > 0 {
			inWant[l]--
			continue
		}
		fmt.Fprintf(&b, "    + %s\n", l)
	}
	return b.String()
}
