package server

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rootline-dns/rootline/internal/wire"
)

const (
	// DoHPath is where DNS over HTTPS is served: the path of RFC 8484's
	// examples, which clients (browsers, curl, kdig, dnsperf) default to.
	DoHPath = "/dns-query"
	// DoHMediaType is the message's media type (RFC 8484 6).
	DoHMediaType = "application/dns-message"
	// dohWriteTimeout bounds one HTTP exchange after its headers arrived:
	// the resolver's wall-time budget (about 10 s) for the answer plus
	// tcpWriteTimeout for a client slow to read it.
	dohWriteTimeout = 10*time.Second + tcpWriteTimeout
	// dohMaxHeader bounds request headers: a GET carries the query in its
	// URL, and a 4 KiB query is 5.5 KiB of base64url.
	dohMaxHeader = 16 << 10
	// dohMaxStreams is the HTTP/2 streams a client may keep open at once
	// on one connection: RFC 9113 6.5.2 asks for no fewer than 100, and
	// streams beyond the limit are refused (RST_STREAM), not queued as
	// pipelined DoT queries are, so a low one loses queries. The work in
	// progress stays bounded by TCPMaxQueries.
	dohMaxStreams = 100
)

// dohServer is the net/http server of one DoH listener: HTTP/2 and
// HTTP/1.1 over TLS, the stream limits of Config (idle and read
// timeouts; dohMaxStreams streams per HTTP/2 connection), and the
// connection accounting of the TCP listener (dohListener).
func (s *Server) dohServer() *http.Server {
	cfg := s.cfg.TLS.Clone()
	cfg.NextProtos = []string{"h2", "http/1.1"}
	return &http.Server{
		Handler:           &dohHandler{s: s, ctype: []string{DoHMediaType}},
		TLSConfig:         cfg,
		ReadHeaderTimeout: s.cfg.TCPReadTimeout,
		IdleTimeout:       s.cfg.TCPIdleTimeout,
		WriteTimeout:      dohWriteTimeout,
		MaxHeaderBytes:    dohMaxHeader,
		HTTP2:             &http.HTTP2Config{MaxConcurrentStreams: max(dohMaxStreams, s.cfg.TCPMaxInFlight)},
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			if tc := dohConnOf(c); tc != nil {
				return context.WithValue(ctx, dohConnKey{}, tc)
			}
			return ctx
		},
		ConnState: func(c net.Conn, st http.ConnState) {
			if st != http.StateClosed && st != http.StateHijacked {
				return
			}
			if tc := dohConnOf(c); tc != nil {
				tc.cancel()
				s.mu.Lock()
				s.release(tc)
				s.mu.Unlock()
			}
		},
	}
}

// serveHTTPS serves one DoH listener until the server stops.
func (s *Server) serveHTTPS(web *http.Server, l net.Listener) {
	if err := web.ServeTLS(dohListener{Listener: l, s: s}, "", ""); err != nil && !errors.Is(err, http.ErrServerClosed) {
		s.log.Warn("https listener stopped", "addr", l.Addr(), "err", err)
	}
}

// dohListener registers every accepted connection as the TCP listener
// does (newConn: limits, the per-client share, eviction of the oldest
// idle one) and closes at once those over the limits.
type dohListener struct {
	net.Listener
	s *Server
}

func (l dohListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc := l.s.newConn(dohSide{c})
		if tc == nil {
			if t, ok := c.(*net.TCPConn); ok {
				t.SetLinger(0)
			}
			c.Close()
			continue
		}
		tc.enc = HTTPS
		return &dohConn{Conn: c, tc: tc}, nil
	}
}

// dohConn is an accepted DoH connection as net/http sees it, carrying
// its registration.
type dohConn struct {
	net.Conn
	tc *tcpConn
}

// dohSide is the connection as the Server's own code sees it (tcpConn.c):
// it may close it (eviction, a forced shutdown) but leaves its deadlines
// to net/http, which stops its connections itself (http.Server.Shutdown).
type dohSide struct{ net.Conn }

func (dohSide) SetReadDeadline(time.Time) error { return nil }

type dohConnKey struct{}

func dohConnOf(c net.Conn) *tcpConn {
	if t, ok := c.(*tls.Conn); ok {
		c = t.NetConn()
	}
	if d, ok := c.(*dohConn); ok {
		return d.tc
	}
	return nil
}

type dohHandler struct {
	s     *Server
	ctype []string // the Content-Type header's value, shared by every reply (net/http only reads it)
}

// ServeHTTP answers one DoH request (RFC 8484 4.1): GET with the query
// in base64url in the dns parameter, or POST with it as the body, both
// of type application/dns-message. The reply is the handler's, padded
// as over DoT (finishStream), with a Cache-Control max-age no longer
// than its smallest TTL (RFC 8484 5.1). Malformed requests are 400, a
// query the handler would not answer too.
func (h *dohHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s := h.s
	if r.URL.Path != DoHPath {
		http.NotFound(w, r)
		return
	}
	var msg []byte
	var err error
	switch r.Method {
	case http.MethodGet:
		// RFC 8484 6: base64url without padding; padded input is taken too.
		msg, err = base64.RawURLEncoding.DecodeString(strings.TrimRight(dnsParam(r.URL.RawQuery), "="))
	case http.MethodPost:
		if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != DoHMediaType {
			http.Error(w, "want Content-Type "+DoHMediaType, http.StatusUnsupportedMediaType)
			return
		}
		msg, err = io.ReadAll(http.MaxBytesReader(w, r.Body, wire.MaxMsgSize))
	default:
		w.Header().Set("Allow", "GET, POST")
		http.Error(w, "GET or POST", http.StatusMethodNotAllowed)
		return
	}
	if err != nil || len(msg) < wire.HeaderLen {
		s.observe(EventMalformed, TCP)
		http.Error(w, "not a DNS query", http.StatusBadRequest)
		return
	}
	if msg[2]&0x80 != 0 {
		s.observe(EventResponse, TCP)
		http.Error(w, "a DNS response, not a query", http.StatusBadRequest)
		return
	}
	tc, _ := r.Context().Value(dohConnKey{}).(*tcpConn)
	if tc == nil {
		http.Error(w, "no connection", http.StatusInternalServerError)
		return
	}
	ctx := r.Context()
	tc.active.Store(time.Now().UnixNano())
	tc.pending.Add(1)
	select {
	case s.tcpQueries <- struct{}{}:
	case <-ctx.Done():
		tc.pending.Add(-1)
		return
	}
	defer func() { <-s.tcpQueries }()
	bp := s.bufs.Get().(*[]byte)
	defer s.bufs.Put(bp)
	out := (*bp)[2:2]
	req := Request{Wire: msg, Remote: tc.remote, Local: tc.local, Proto: TCP, Encrypted: HTTPS}
	reply := s.h.ServeDNS(ctx, &req, out)
	tc.pending.Add(-1)
	if len(reply) < wire.HeaderLen || len(reply) > maxMsgSize {
		http.Error(w, "no answer to this query", http.StatusBadRequest)
		return
	}
	if &reply[0] != &out[:1][0] {
		reply = append(out, reply...)
	}
	reply = s.finishStream(&req, reply)
	// Headers set by their canonical keys, no Date (a DNS reply carries
	// no use for it), Content-Length left to net/http, which counts a
	// body written whole before the handler returns: a cache hit is
	// cheap here, and each of these showed in profiles.
	hdr := w.Header()
	hdr["Content-Type"] = h.ctype
	hdr["Date"] = nil
	if ttl, ok := minTTL(reply); ok {
		hdr["Cache-Control"] = []string{"max-age=" + strconv.FormatUint(uint64(ttl), 10)}
	}
	if _, err := w.Write(reply); err != nil {
		s.observe(EventSendFailed, TCP)
	}
}

// dnsParam is the value of the dns parameter of a raw query string, still
// escaped: base64url needs none (RFC 8484 4.1), so a value that does is
// malformed anyway. It spares url.Values' map per request.
func dnsParam(raw string) string {
	for raw != "" {
		var kv string
		kv, raw, _ = strings.Cut(raw, "&")
		if v, ok := strings.CutPrefix(kv, "dns="); ok {
			return v
		}
	}
	return ""
}

// minTTL is the smallest TTL of the answer and authority records of a
// reply, false when it has none (or does not walk).
func minTTL(msg []byte) (uint32, bool) {
	if len(msg) < wire.HeaderLen {
		return 0, false
	}
	off := wire.HeaderLen
	for range binary.BigEndian.Uint16(msg[4:]) {
		if off = wire.SkipName(msg, off); off < 0 || off+4 > len(msg) {
			return 0, false
		}
		off += 4
	}
	n := int(binary.BigEndian.Uint16(msg[6:])) + int(binary.BigEndian.Uint16(msg[8:]))
	var least uint32
	for i := range n {
		end := wire.SkipName(msg, off)
		if end < 0 || end+10 > len(msg) {
			return 0, false
		}
		if ttl := binary.BigEndian.Uint32(msg[end+4:]); i == 0 || ttl < least {
			least = ttl
		}
		off = end + 10 + int(binary.BigEndian.Uint16(msg[end+8:]))
	}
	return least, n > 0 && off <= len(msg)
}
