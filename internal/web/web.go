// Package web is the resolver's and the lab's web page: live statistics,
// a form that resolves a name and draws the path it took (root -> TLD ->
// authoritative, each exchange with its timing, cache hits and failures
// marked, the DNSSEC chain when there is one), and in the lab a panel
// that switches faults on and off. It serves one embedded HTML file (CSS
// and a little JavaScript inline: no CDN, no build step, works offline)
// and three JSON endpoints:
//
//	GET  /api/explain?name=N&type=T  resolve through the real handler path, say what happened (loopback only)
//	GET  /api/stats                  queries, cache hits, upstream queries, latency, cache, memory
//	GET  /api/lab                    the lab's servers, their faults and what to watch for (lab only)
//	POST /api/lab/fault              server=S&fault=F: switch a fault (lab only, loopback only)
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
	"log/slog"
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

// headerTimeout bounds how long a client may take to send its request
// headers, so idle connections cannot pile up (Slowloris).
const headerTimeout = 5 * time.Second

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
	Lab Lab
	// Logger receives the server's errors (discarded if nil).
	Logger *slog.Logger
}

// CheckAddr refuses a listen address off loopback unless allowRemote:
// the page shows the cache's contents and the statistics to whoever can
// reach it. (The explain endpoint and fault switches answer loopback
// clients only, whatever this allows.)
func CheckAddr(addr netip.AddrPort, allowRemote bool) error {
	if !addr.IsValid() {
		return errors.New("web: no address")
	}
	if !allowRemote && !addr.Addr().Unmap().IsLoopback() {
		return fmt.Errorf("web: %s is not a loopback address: the page shows the cache and the statistics to anyone who can reach it; add --web-allow-remote (web-allow-remote = true) to serve it there", addr)
	}
	return nil
}

// Handler returns the page and its API.
func Handler(o Options) http.Handler {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	mux := http.NewServeMux()
	zipped := sync.OnceValue(func() []byte { return gzipped(page) })
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-cache")
		w.Header().Set("Vary", "Accept-Encoding")
		// The page's own script and style only: nothing from elsewhere.
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src 'self' data:")
		body := page
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			// A third of the bytes over a slow link to a small device.
			w.Header().Set("Content-Encoding", "gzip")
			body = zipped()
		}
		w.Write(body) //nolint:errcheck // the client went away
	})
	mux.HandleFunc("GET /api/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, o.Stats())
	})
	mux.HandleFunc("GET /api/explain", func(w http.ResponseWriter, r *http.Request) {
		client, ok := loopbackClient(w, r)
		if !ok {
			return
		}
		name, qtype, err := question(r.URL.Query().Get("name"), r.URL.Query().Get("type"))
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
		writeJSON(w, e)
	})
	if o.Lab != nil {
		mux.HandleFunc("GET /api/lab", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, o.Lab.LabState())
		})
		mux.HandleFunc("POST /api/lab/fault", func(w http.ResponseWriter, r *http.Request) {
			if _, ok := loopbackClient(w, r); !ok {
				return
			}
			// A form posted by another site cannot set this header
			// without a CORS preflight, which is never granted.
			if r.Header.Get("X-Rootline") == "" {
				http.Error(w, "missing X-Rootline header", http.StatusForbidden)
				return
			}
			if err := o.Lab.SetFault(r.FormValue("server"), r.FormValue("fault")); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			writeJSON(w, o.Lab.LabState())
		})
	}
	return hostCheck(mux)
}

// hostCheck refuses requests whose Host is a name other than localhost:
// a DNS-rebinding page names its own domain, which then points at us.
func hostCheck(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
		if _, err := netip.ParseAddr(host); err != nil && !strings.EqualFold(host, "localhost") {
			http.Error(w, "use the server's address (or localhost) in the URL", http.StatusMisdirectedRequest)
			return
		}
		next.ServeHTTP(w, r)
	})
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

// Server is the page served on one address.
type Server struct {
	srv  *http.Server
	addr netip.AddrPort
	done chan struct{}
}

// Start listens on addr (checked by CheckAddr first) and serves the page.
func Start(addr netip.AddrPort, allowRemote bool, o Options) (*Server, error) {
	if err := CheckAddr(addr, allowRemote); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr.String())
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{addr: ln.Addr().(*net.TCPAddr).AddrPort(), done: make(chan struct{}),
		srv: &http.Server{Handler: Handler(o), ReadHeaderTimeout: headerTimeout,
			ErrorLog: slog.NewLogLogger(o.Logger.Handler(), slog.LevelWarn)}}
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			o.Logger.Error("web server", "err", err)
		}
	}()
	return s, nil
}

// Addr is the address bound.
func (s *Server) Addr() netip.AddrPort { return s.addr }

// Shutdown stops the server, letting requests finish until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.srv.Shutdown(ctx)
	if err != nil {
		err = errors.Join(err, s.srv.Close())
	}
	<-s.done
	return err
}
