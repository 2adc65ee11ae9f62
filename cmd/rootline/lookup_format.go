package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/lookup"
)

// printer writes replies the way the options ask: dig's text layout,
// +short (rdata only, as dig +short), or RFC 8427 JSON.
type printer struct {
	w    io.Writer
	args *lookupArgs
	now  func() time.Time // for ";; WHEN:"; nil means time.Now
}

func (p *printer) when() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

// reply prints one reply to req.
func (p *printer) reply(req, r *dns.Msg, info lookup.Info) {
	p.tsigFailure()
	switch {
	case p.args.json:
		p.json(r)
	case p.args.short:
		for _, rr := range r.Answer {
			fmt.Fprintln(p.w, rdataText(rr))
		}
	default:
		p.text(req, r, info)
	}
}

// noReply reports a query nobody answered, in dig's words.
func (p *printer) noReply(req *dns.Msg, servers []netip.AddrPort, err error) {
	if p.args.json {
		return // stderr carries the error; stdout stays valid JSON lines
	}
	if !p.args.short {
		p.banner(req)
	}
	fmt.Fprintln(p.w, ";; communications error or timeout; no servers could be reached")
}

func (p *printer) banner(req *dns.Msg) {
	q := req.Question[0]
	fmt.Fprintf(p.w, "\n; <<>> rootline lookup <<>> %s %s %s\n", q.Name, dns.ClassToString[q.Qclass], typeString(q.Qtype))
}

// text prints dig's default layout (BIND 9.18 dig, section by section).
func (p *printer) text(req, r *dns.Msg, info lookup.Info) {
	w := p.w
	p.banner(req)
	if info.TruncatedUDP {
		fmt.Fprintln(w, ";; Truncated, retrying in TCP mode.")
	}
	fmt.Fprintln(w, ";; Got answer:")
	fmt.Fprintf(w, ";; ->>HEADER<<- opcode: %s, status: %s, id: %d\n",
		dns.OpcodeToString[r.Opcode], rcodeString(r), r.Id)
	fmt.Fprintf(w, ";; flags: %s; QUERY: %d, ANSWER: %d, AUTHORITY: %d, ADDITIONAL: %d\n",
		flagString(r), len(r.Question), len(r.Answer), len(r.Ns), len(r.Extra))
	if req.RecursionDesired && !r.RecursionAvailable {
		fmt.Fprintln(w, ";; WARNING: recursion requested but not available")
	}
	fmt.Fprintln(w)
	if opt := r.IsEdns0(); opt != nil {
		fmt.Fprintln(w, ";; OPT PSEUDOSECTION:")
		flags := ""
		if opt.Do() {
			flags = " do"
		}
		fmt.Fprintf(w, "; EDNS: version: %d, flags:%s; udp: %d\n", opt.Version(), flags, opt.UDPSize())
		for _, o := range opt.Option {
			fmt.Fprintf(w, "; %s\n", ednsOptionText(o))
		}
	}
	if len(r.Question) > 0 {
		fmt.Fprintln(w, ";; QUESTION SECTION:")
		for _, q := range r.Question {
			fmt.Fprintf(w, ";%s\t\t%s\t%s\n", q.Name, classString(q.Qclass), typeString(q.Qtype))
		}
		fmt.Fprintln(w)
	}
	for _, s := range []struct {
		name string
		rrs  []dns.RR
	}{{"ANSWER", r.Answer}, {"AUTHORITY", r.Ns}, {"ADDITIONAL", r.Extra}} {
		var lines []string
		for _, rr := range s.rrs {
			if t := rr.Header().Rrtype; t != dns.TypeOPT && t != dns.TypeTSIG {
				lines = append(lines, rrText(rr))
			}
		}
		if len(lines) == 0 {
			continue
		}
		fmt.Fprintf(w, ";; %s SECTION:\n%s\n\n", s.name, strings.Join(lines, "\n"))
	}
	p.tsigSection(r)
	fmt.Fprintf(w, ";; Query time: %d msec\n", info.RTT.Milliseconds())
	fmt.Fprintf(w, ";; SERVER: %s#%d(%s) (%s)\n", info.Server.Addr(), info.Server.Port(), info.Server.Addr(), strings.ToUpper(string(info.Transport)))
	fmt.Fprintf(w, ";; WHEN: %s\n", p.when().UTC().Format("Mon Jan 02 15:04:05 MST 2006"))
	fmt.Fprintf(w, ";; MSG SIZE  rcvd: %d\n%s\n", info.Size, p.tsigWarning())
}

func rcodeString(r *dns.Msg) string {
	if s, ok := dns.RcodeToString[r.Rcode]; ok {
		return s
	}
	return fmt.Sprintf("RESERVED%d", r.Rcode)
}

func typeString(t uint16) string {
	if s, ok := dns.TypeToString[t]; ok {
		return s
	}
	return fmt.Sprintf("TYPE%d", t)
}

func classString(c uint16) string {
	if s, ok := dns.ClassToString[c]; ok {
		return s
	}
	return fmt.Sprintf("CLASS%d", c)
}

// flagString lists the header flags in dig's order.
func flagString(r *dns.Msg) string {
	var f []string
	for _, x := range []struct {
		on   bool
		name string
	}{{r.Response, "qr"}, {r.Authoritative, "aa"}, {r.Truncated, "tc"}, {r.RecursionDesired, "rd"},
		{r.RecursionAvailable, "ra"}, {r.AuthenticatedData, "ad"}, {r.CheckingDisabled, "cd"}} {
		if x.on {
			f = append(f, x.name)
		}
	}
	return strings.Join(f, " ")
}

// ednsOptionText names the EDNS options dig names (RFC 7873 cookie, RFC
// 5001 NSID, RFC 8914 extended errors); others are shown as code and hex.
func ednsOptionText(o dns.EDNS0) string {
	switch v := o.(type) {
	case *dns.EDNS0_COOKIE:
		return "COOKIE: " + v.Cookie
	case *dns.EDNS0_NSID:
		b, _ := hex.DecodeString(v.Nsid)
		return fmt.Sprintf("NSID: %s (%q)", v.Nsid, b)
	case *dns.EDNS0_EDE:
		// As dig: the code's name when RFC 8914 gives one, the text
		// when there is some.
		s := fmt.Sprintf("EDE: %d", v.InfoCode)
		if name, ok := dns.ExtendedErrorCodeToString[v.InfoCode]; ok {
			s += " (" + name + ")"
		}
		if v.ExtraText != "" {
			s += ": (" + v.ExtraText + ")"
		}
		return s
	}
	return fmt.Sprintf("OPT=%d: %s", o.Option(), o.String())
}

// json prints r as an RFC 8427 message object, one per line.
func (p *printer) json(r *dns.Msg) {
	obj := map[string]any{
		"ID": r.Id, "QR": b2i(r.Response), "Opcode": r.Opcode, "AA": b2i(r.Authoritative),
		"TC": b2i(r.Truncated), "RD": b2i(r.RecursionDesired), "RA": b2i(r.RecursionAvailable),
		"AD": b2i(r.AuthenticatedData), "CD": b2i(r.CheckingDisabled), "RCODE": r.Rcode,
		"QDCOUNT": len(r.Question), "ANCOUNT": len(r.Answer), "NSCOUNT": len(r.Ns), "ARCOUNT": len(r.Extra),
	}
	if len(r.Question) == 1 {
		q := r.Question[0]
		obj["QNAME"] = q.Name
		obj["QTYPE"] = q.Qtype
		obj["QTYPEname"] = typeString(q.Qtype)
		obj["QCLASS"] = q.Qclass
		obj["QCLASSname"] = classString(q.Qclass)
	}
	for _, s := range []struct {
		key string
		rrs []dns.RR
	}{{"answerRRs", r.Answer}, {"authorityRRs", r.Ns}, {"additionalRRs", r.Extra}} {
		if len(s.rrs) == 0 {
			continue
		}
		list := make([]map[string]any, 0, len(s.rrs))
		for _, rr := range s.rrs {
			list = append(list, rrJSON(rr))
		}
		obj[s.key] = list
	}
	if b, err := r.Pack(); err == nil {
		obj["messageOctetsHEX"] = strings.ToUpper(hex.EncodeToString(b))
	}
	b, err := json.Marshal(obj) // map keys come out sorted: stable output
	if err != nil {
		fmt.Fprintf(p.w, "{\"comment\": %q}\n", err.Error())
		return
	}
	fmt.Fprintln(p.w, string(b))
}

// rrJSON is one RFC 8427 2.2 resource record object: the generic members
// (RDATAHEX always), plus "rdata" + TYPE in presentation format (2.3).
func rrJSON(rr dns.RR) map[string]any {
	h := rr.Header()
	o := map[string]any{
		"NAME": h.Name, "TYPE": h.Rrtype, "TYPEname": typeString(h.Rrtype),
		"CLASS": h.Class, "TTL": h.Ttl,
	}
	if h.Rrtype != dns.TypeOPT {
		o["CLASSname"] = classString(h.Class)
		o["rdata"+typeString(h.Rrtype)] = strings.TrimSpace(rdataText(rr))
	}
	if rd, ok := rdataBytes(rr); ok {
		o["RDLENGTH"] = len(rd)
		o["RDATAHEX"] = strings.ToUpper(hex.EncodeToString(rd))
	}
	return o
}

// rdataBytes packs rr and returns its RDATA: after the owner name
// (uncompressed) and the 10 bytes of type, class, TTL and RDLENGTH.
func rdataBytes(rr dns.RR) ([]byte, bool) {
	buf := make([]byte, dns.Len(rr)+256)
	n, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return nil, false
	}
	off, err := dns.PackDomainName(rr.Header().Name, make([]byte, 256), 0, nil, false)
	if err != nil || off+10 > n {
		return nil, false
	}
	return buf[off+10 : n], true
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
