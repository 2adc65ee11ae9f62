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
	cur  *queryOpts       // the options of the question being traced
	// bannered is set once the banner (+cmd) has been printed: dig
	// prints it once, before the first reply.
	bannered bool
}

func (p *printer) when() time.Time {
	if p.now != nil {
		return p.now()
	}
	return time.Now()
}

// reply prints one reply to q (sent as req); servers is how many servers
// @SERVER named, for the banner.
func (p *printer) reply(q question, req, r *dns.Msg, info lookup.Info, servers int) {
	o := q.opts
	p.tsigFailure()
	switch {
	case p.args.json:
		p.json(r)
	case q.short:
		if o.answer {
			for _, rr := range r.Answer {
				fmt.Fprintln(p.w, rdataText(rr))
			}
		}
	default:
		p.banner(servers)
		p.text(o, req, r, info)
	}
}

// noReply reports a query nobody answered, in dig's words.
func (p *printer) noReply(q question, servers []netip.AddrPort, err error) {
	if p.args.json {
		return // stderr carries the error; stdout stays valid JSON lines
	}
	if !q.short {
		p.banner(len(servers))
	}
	fmt.Fprintln(p.w, ";; communications error or timeout; no servers could be reached")
}

// banner prints dig's +cmd lines once, before the first reply: the
// command line, how many servers @SERVER gave, and the global options.
func (p *printer) banner(servers int) {
	if p.bannered || !p.args.cmd {
		return
	}
	p.bannered = true
	fmt.Fprintf(p.w, "\n; <<>> rootline lookup <<>> %s\n", strings.Join(p.args.argv, " "))
	if p.args.server != "" {
		plural := "s"
		if servers == 1 {
			plural = ""
		}
		fmt.Fprintf(p.w, "; (%d server%s found)\n", servers, plural)
	}
	fmt.Fprintln(p.w, ";; global options: +cmd")
}

// text prints dig's layout (BIND 9.18 dig), each part as o asks: the
// header and OPT pseudosection (+comments), the sections, the statistics.
func (p *printer) text(o *queryOpts, req, r *dns.Msg, info lookup.Info) {
	w := p.w
	st := styleFor(o)
	if o.comments {
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
			for _, eo := range opt.Option {
				fmt.Fprintf(w, "; %s\n", ednsOptionText(eo))
			}
		}
	}
	var b strings.Builder
	if o.question && len(r.Question) > 0 {
		if o.comments {
			b.WriteString(";; QUESTION SECTION:\n")
		}
		for _, q := range r.Question {
			b.WriteByte(';')
			st.question(&b, q)
			b.WriteByte('\n')
		}
		if o.comments {
			b.WriteByte('\n')
		}
	}
	for _, s := range []struct {
		name string
		on   bool
		rrs  []dns.RR
	}{{"ANSWER", o.answer, r.Answer}, {"AUTHORITY", o.authority, r.Ns}, {"ADDITIONAL", o.additional, r.Extra}} {
		if !s.on {
			continue
		}
		n := 0
		for _, rr := range s.rrs {
			if t := rr.Header().Rrtype; t == dns.TypeOPT || t == dns.TypeTSIG {
				continue // OPT and TSIG have their pseudosections
			}
			if n == 0 && o.comments {
				b.WriteString(";; " + s.name + " SECTION:\n")
			}
			n++
			st.record(&b, rr)
			b.WriteByte('\n')
		}
		if n > 0 && o.comments {
			b.WriteByte('\n')
		}
	}
	io.WriteString(w, b.String())
	if o.comments {
		p.tsigSection(r)
	}
	if o.stats {
		fmt.Fprintf(w, ";; Query time: %d msec\n", info.RTT.Milliseconds())
		fmt.Fprintf(w, ";; SERVER: %s#%d(%s) (%s)\n", info.Server.Addr(), info.Server.Port(), info.Server.Addr(), strings.ToUpper(string(info.Transport)))
		fmt.Fprintf(w, ";; WHEN: %s\n", p.when().UTC().Format("Mon Jan 02 15:04:05 MST 2006"))
		fmt.Fprintf(w, ";; MSG SIZE  rcvd: %d\n%s\n", info.Size, p.tsigWarning())
	}
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
		return "NSID: " + nsidText(v.Nsid)
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

// nsidText shows an NSID as dig does: the bytes in hex, then the text with
// non-printable bytes as dots.
func nsidText(h string) string {
	b, err := hex.DecodeString(h)
	if err != nil {
		return h
	}
	var hx, txt strings.Builder
	for i, c := range b {
		if i > 0 {
			hx.WriteByte(' ')
		}
		fmt.Fprintf(&hx, "%02x", c)
		if c < 0x20 || c > 0x7e {
			c = '.'
		}
		txt.WriteByte(c)
	}
	return fmt.Sprintf("%s (\"%s\")", hx.String(), txt.String())
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
