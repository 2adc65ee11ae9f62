// Package web is the resolver's and the lab's web page: live statistics,
// a form that resolves a name and draws the path it took (root -> TLD ->
// authoritative, each exchange with its timing, cache hits and failures
// marked, the DNSSEC chain when there is one), and in the lab a panel
// that switches faults on and off. It serves one embedded HTML file (CSS
// and a little JavaScript inline: no CDN, no build step, works offline)
// and three JSON endpoints:
//
//	GET  /api/explain?name=N&type=T  resolve through the real handler path, say what happened (loopback only;
//	                                 JSON, or text.go's form with &format=text)
//	GET  /api/stats                  queries, cache hits, upstream queries, latency, cache, memory
//	GET  /api/lab                    the lab's servers, their faults and what to watch for (lab only)
//	POST /api/lab/fault?server=S&fault=F  switch a fault (lab only, loopback only)
//
// What it must not do: resolve for or change anything on behalf of a
// client that is not on loopback (explain sends queries and shows the
// cache: an amplifier and a cache-snooping oracle if exposed); answer a
// request whose Host header is a name other than localhost (DNS
// rebinding would let any web site read the page's JSON); import the
// daemons (internal/service gives it functions and small interfaces).
package web

import (
	"bytes"
	"compress/gzip"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/miekg/dns"
)

// DefaultAddr is the address suggested for --web: loopback, and the DNS
// port's digits after 80.
const DefaultAddr = "127.0.0.1:8053"

// explainTimeout bounds one explain request: a resolution has its own
// wall-time budget (10 s); a little more lets its reply be written.
const explainTimeout = 15 * time.Second

//go:embed index.html
var page []byte

// Options are what the page shows.
type Options struct {
	// Role is "resolver" or "lab", shown in the title.
	Role string
	// Explain resolves (name, qtype) for a client through the resolver's
	// real handler path and says what happened. Required.
	Explain func(ctx context.Context, name string, qtype uint16, client netip.AddrPort) (*Explanation, error)
	// Stats reads the live statistics. Required.
	Stats func() Stats
	// Lab, when set, adds the fault panel.
	Lab *Lab
}

// Page is the page's HTML, for tests.
func Page() string { return string(page) }

// CheckAddr refuses a listen address off loopback unless allowRemote:
// the page shows the cache's contents and the statistics to whoever can
// reach it. (The explain endpoint and fault switches answer loopback
// clients only, whatever this allows.)
func CheckAddr(addr netip.AddrPort, allowRemote bool) error {
	if !addr.IsValid() {
		return errors.New("web: no address")
	}
	if !allowRemote && !addr.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("web: %s is off loopback, where anyone could read the page: add --web-allow-remote to serve it there", addr)
	}
	return nil
}

// Handler returns the page and its API.
func Handler(o Options) http.Handler {
	return &handler{o: o, zipped: sync.OnceValue(func() []byte { return gzipped(page) })}
}

// handler routes by method and path itself: four routes do not need a
// ServeMux's patterns (nor the closures they would take).
type handler struct {
	o      Options
	zipped func() []byte
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// A DNS-rebinding page names its own domain, which then points at
	// us: only addresses and localhost are served.
	host := r.Host
	if hp, _, err := net.SplitHostPort(host); err == nil {
		host = hp
	}
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err != nil && !strings.EqualFold(host, "localhost") {
		http.Error(w, "use the server's address (or localhost) in the URL", http.StatusMisdirectedRequest)
		return
	}
	o, q := h.o, r.URL.Query()
	switch r.Method + " " + r.URL.Path {
	case "GET /":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Vary", "Accept-Encoding")
		// The page's own script and style only: nothing from elsewhere.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:")
		body := page
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			// A third of the bytes over a slow link to a small device.
			w.Header().Set("Content-Encoding", "gzip")
			body = h.zipped()
		}
		w.Write(body) //nolint:errcheck // the client went away
	case "GET /api/stats":
		writeJSON(w, o.Stats())
	case "GET /api/explain":
		client, ok := loopbackClient(w, r)
		if !ok {
			return
		}
		name, qtype, err := question(q.Get("name"), q.Get("type"))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), explainTimeout)
		defer cancel()
		e, err := o.Explain(ctx, name, qtype, client)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		if q.Get("format") == "text" {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write(WriteText(e)) //nolint:errcheck // the client went away
			return
		}
		writeJSON(w, e)
	case "GET /api/lab":
		if o.Lab == nil {
			http.NotFound(w, r)
			return
		}
		writeJSON(w, o.Lab.State())
	case "POST /api/lab/fault":
		if o.Lab == nil {
			http.NotFound(w, r)
			return
		}
		if _, ok := loopbackClient(w, r); !ok {
			return
		}
		// A form posted by another site cannot set this header without
		// a CORS preflight, which is never granted. The parameters are
		// in the URL: a form body's parsers would cost the binary
		// kilobytes for two words.
		if r.Header.Get("X-Rootline") == "" {
			http.Error(w, "missing X-Rootline header", http.StatusForbidden)
			return
		}
		if err := o.Lab.SetFault(q.Get("server"), q.Get("fault")); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		writeJSON(w, o.Lab.State())
	default:
		http.NotFound(w, r)
	}
}

// loopbackClient returns the client's address when it is on loopback,
// else answers 403.
func loopbackClient(w http.ResponseWriter, r *http.Request) (netip.AddrPort, bool) {
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil || !ap.Addr().Unmap().IsLoopback() {
		http.Error(w, "allowed from loopback only: it sends queries and shows the cache", http.StatusForbidden)
		return netip.AddrPort{}, false
	}
	return netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port()), true
}

// maxName bounds the name parameter (a domain name is at most 253
// characters in text, escapes aside).
const maxName = 1024

// question reads the name and type parameters (type defaults to A).
func question(name, typ string) (string, uint16, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > maxName {
		return "", 0, errors.New("name: want a domain name")
	}
	if _, ok := dns.IsDomainName(name); !ok {
		return "", 0, fmt.Errorf("name %q is not a domain name", name)
	}
	qtype := dns.TypeA
	if typ != "" {
		t, ok := dns.StringToType[strings.ToUpper(typ)]
		if !ok || t == dns.TypeNone || t == dns.TypeOPT {
			return "", 0, fmt.Errorf("type %q: unknown", typ)
		}
		qtype = t
	}
	return dns.Fqdn(name), qtype, nil
}

// gzipped compresses b (the page, once).
func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression) // a valid level: no error
	zw.Write(b)                                              //nolint:errcheck // a bytes.Buffer does not fail
	zw.Close()                                               //nolint:errcheck
	return buf.Bytes()
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(v) //nolint:errcheck // the client went away
}
