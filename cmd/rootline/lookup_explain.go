package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/web"
	"github.com/rootline-dns/rootline/lookup"
)

// explainWebPort is where +explain looks for a Rootline resolver's web
// page when no address is given: @SERVER's address, port 8053
// (web.DefaultAddr's).
const explainWebPort = 8053

// maxExplainBody bounds the explanation read: a resolution's events are
// bounded by its budgets, well under this.
const maxExplainBody = 4 << 20

// explainOpt is +explain[=ADDR:PORT]: ask a Rootline resolver's web page
// why it answers as it does.
type explainOpt struct {
	on   bool
	addr string // the page's ADDR:PORT; "" for @SERVER's address, port 8053
}

// runExplain asks the resolver's explain endpoint about each question
// and prints its sentences, then the reply as the other options say
// (dig's layout by default). +json prints each explanation as the
// endpoint gives it: one JSON object per line.
func runExplain(ctx context.Context, a *lookupArgs, servers []netip.AddrPort, out *printer, stderr io.Writer) error {
	base, err := explainBase(a.explain.addr, servers)
	if err != nil {
		return err
	}
	for _, q := range a.questions {
		body, err := fetchExplanation(ctx, a.timeout*3, base, q, !a.json) // a resolution may take up to 10 s of its own
		if err != nil {
			fmt.Fprintf(stderr, "rootline: lookup %s %s +explain: http://%s: %v\n", q.name, typeString(q.qtype), base, err)
			return exitError{code: exitNoReply}
		}
		if a.json {
			fmt.Fprintln(out.w, strings.TrimSpace(string(body)))
			continue
		}
		e, err := web.ParseText(body)
		if err != nil {
			return fmt.Errorf("lookup: +explain: %w", err)
		}
		for _, s := range e.Sentences {
			fmt.Fprintln(out.w, s)
		}
		if len(e.Reply) == 0 {
			continue // dropped: the sentences say so
		}
		r := new(dns.Msg)
		if err := r.Unpack(e.Reply); err != nil {
			return fmt.Errorf("lookup: +explain: reply: %w", err)
		}
		info := lookup.Info{RTT: e.Elapsed, Size: len(e.Reply), Transport: "http"}
		if len(servers) > 0 {
			info.Server = servers[0]
		}
		out.reply(q, a.request(q), r, info, len(servers))
	}
	return nil
}

// explainBase is the page's address: +explain=ADDR:PORT, or the first
// server's address with port 8053.
func explainBase(addr string, servers []netip.AddrPort) (netip.AddrPort, error) {
	if addr == "" {
		if len(servers) == 0 {
			return netip.AddrPort{}, usageErr("+explain needs @SERVER or +explain=ADDR:PORT")
		}
		return netip.AddrPortFrom(servers[0].Addr(), explainWebPort), nil
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return netip.AddrPort{}, usageErr("+explain=%s: want the resolver's web address, ADDR:PORT", addr)
	}
	return ap, nil
}

// fetchExplanation asks the explain endpoint at base about q, for text
// (web.WriteText) or JSON. It speaks HTTP/1.0 on one TCP connection
// itself, so the reply is the body up to the connection's end, never
// chunked: http.Client's transport (pools, HTTP/2, proxies) would cost
// the binary tens of KiB for one loopback request.
func fetchExplanation(ctx context.Context, timeout time.Duration, base netip.AddrPort, q question, text bool) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	query := "name=" + url.QueryEscape(q.name) + "&type=" + typeString(q.qtype)
	if text {
		query += "&format=text"
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", base.String())
	if err != nil {
		return nil, fmt.Errorf("%w (is the server a Rootline resolver started with --web %s? Or give +explain=ADDR:PORT)", err, base)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl) //nolint:errcheck // a TCP connection takes deadlines
	}
	var resp []byte
	_, err = io.WriteString(conn, "GET /api/explain?"+query+" HTTP/1.0\r\nHost: "+base.String()+"\r\n\r\n")
	if err == nil {
		resp, err = io.ReadAll(io.LimitReader(conn, maxExplainBody))
	}
	if err != nil {
		return nil, err
	}
	head, body, _ := strings.Cut(string(resp), "\r\n\r\n")
	if status, _, _ := strings.Cut(head, "\r\n"); !strings.HasPrefix(status, "HTTP/1.") || !strings.HasPrefix(status[min(len(status), 9):], "200 ") {
		return nil, errors.New(status + ": " + strings.TrimSpace(body))
	}
	return []byte(body), nil
}
