package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

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
// (dig's layout by default). +json prints each explanation as one JSON
// object per line.
func runExplain(ctx context.Context, a *lookupArgs, servers []netip.AddrPort, out *printer, stderr io.Writer) error {
	base, err := explainBase(a.explain.addr, servers)
	if err != nil {
		return err
	}
	hc := &http.Client{Timeout: a.timeout * 3} // a resolution may take up to 10 s of its own
	for _, q := range a.questions {
		e, err := fetchExplanation(ctx, hc, base, q)
		if err != nil {
			fmt.Fprintf(stderr, "rootline: lookup %s %s +explain: %v\n", q.name, typeString(q.qtype), err)
			return exitError{code: exitNoReply}
		}
		if a.json {
			b, err := json.Marshal(e)
			if err != nil {
				return err
			}
			fmt.Fprintln(out.w, string(b))
			continue
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
		req := a.request(q)
		info := lookup.Info{RTT: e.Elapsed, Size: len(e.Reply), Transport: "http"}
		if len(servers) > 0 {
			info.Server = servers[0]
		}
		out.reply(req, r, info)
	}
	return nil
}

// explainBase is the page's URL: +explain=ADDR:PORT, or the first
// server's address with port 8053.
func explainBase(addr string, servers []netip.AddrPort) (string, error) {
	if addr == "" {
		if len(servers) == 0 {
			return "", usageErr("+explain needs @SERVER or +explain=ADDR:PORT")
		}
		addr = netip.AddrPortFrom(servers[0].Addr(), explainWebPort).String()
	}
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		return "", usageErr("+explain=%s: want the resolver's web address, ADDR:PORT", addr)
	}
	return "http://" + ap.String(), nil
}

func fetchExplanation(ctx context.Context, hc *http.Client, base string, q question) (*web.Explanation, error) {
	u := base + "/api/explain?" + url.Values{"name": {q.name}, "type": {typeString(q.qtype)}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("%s: %w (is the resolver a Rootline resolver started with --web %s? Or give +explain=ADDR:PORT)",
			base, err, strings.TrimPrefix(base, "http://"))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxExplainBody))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", base, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s: %s", base, resp.Status, strings.TrimSpace(string(body)))
	}
	var e web.Explanation
	if err := json.Unmarshal(body, &e); err != nil {
		return nil, fmt.Errorf("%s: not an explanation: %w", base, err)
	}
	return &e, nil
}
