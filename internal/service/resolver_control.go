package service

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/control"
)

// What the resolver does for `rootline control`.
var (
	_ control.StatusReporter = (*Resolver)(nil)
	_ control.StatsReporter  = (*Resolver)(nil)
	_ control.CacheFlusher   = (*Resolver)(nil)
	_ control.CacheDumper    = (*Resolver)(nil)
)

// ControlStatus reports the cache's size.
func (s *Resolver) ControlStatus(w io.Writer) error {
	entries, bytes := s.cache.Stats()
	denial, _ := s.cache.Denial.Stats()
	_, err := fmt.Fprintf(w, "cache-entries: %d\ncache-bytes: %d\ndenial-records: %d\n", entries, bytes, denial)
	return err
}

// ControlStats writes the metrics as "name value" lines.
func (s *Resolver) ControlStats(w io.Writer) error {
	if s.front.m == nil {
		return errors.New("stats: metrics are off")
	}
	return s.front.m.WriteStats(w)
}

// FlushName drops every entry at name, and the aggressive-NSEC records
// that might deny it, so the name is asked upstream again.
func (s *Resolver) FlushName(name string) int {
	n := s.cache.FlushName(name)
	s.log.Info("cache flushed", "name", name, "entries", n)
	return n
}

// FlushZone drops every entry at or below zone, with the denial records
// of zone, of the zones below it and of the zone enclosing it.
func (s *Resolver) FlushZone(zone string) int {
	n := s.cache.FlushZone(zone)
	s.log.Info("cache flushed", "zone", zone, "entries", n)
	return n
}

// DumpCache writes at most max live cache entries as zone-file text:
// RRsets (with their RRSIGs) as records with their remaining TTLs, and
// negative and failure entries as comments, which a zone file reader
// skips. Entries are in no particular order.
func (s *Resolver) DumpCache(ctx context.Context, w io.Writer, max int) error {
	bw := bufio.NewWriter(w)
	n := 0
	var err error
	s.cache.Walk(func(d cache.Dumped) bool {
		if err = ctx.Err(); err != nil {
			return false
		}
		if n == max {
			fmt.Fprintf(bw, "; dump stopped after %d entries\n", max)
			return false
		}
		n++
		switch d.Kind {
		case cache.Positive:
			for _, rr := range append(d.RRs, d.Sigs...) {
				fmt.Fprintln(bw, rr.String())
			}
		case cache.NXDomain:
			fmt.Fprintf(bw, "; %s %d NXDOMAIN\n", d.Name, d.TTL)
		case cache.NoData:
			fmt.Fprintf(bw, "; %s %d %s NODATA\n", d.Name, d.TTL, dns.Type(d.Type))
		case cache.Failure:
			fmt.Fprintf(bw, "; %s %d %s SERVFAIL (remembered failure)\n", d.Name, d.TTL, dns.Type(d.Type))
		}
		// A client that stops reading ends the dump (the writes time
		// out); what it did read stays.
		if bw.Buffered() > 32<<10 {
			err = bw.Flush()
		}
		return err == nil
	})
	if err != nil {
		return err
	}
	return bw.Flush()
}
