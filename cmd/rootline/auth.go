package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/rootline-dns/rootline/internal/auth"
	"github.com/rootline-dns/rootline/internal/config"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/zone"
)

const authUsage = `usage: rootline auth --listen ADDR:PORT [--listen ...] --zone ORIGIN=FILE [--zone ...] [--config FILE]
       [--allow-transfer CIDR ...] [--notify ADDR[:PORT] ...] [--secondary ORIGIN=PRIMARY[:PORT] ...]

Serves the zones authoritatively over UDP and TCP on every listen address.
SIGHUP reloads the configuration and zone files (a zone that fails to load
keeps its old version); SIGTERM or SIGINT stops.

Replication: clients in --allow-transfer may AXFR/IXFR every zone; after a
reload that advances a zone's serial, --notify targets get a NOTIFY.
--secondary zones are transferred from their primary, refreshed on the SOA
timers and on NOTIFY from it, and served like the others.`

// shutdownGrace bounds how long in-flight queries may finish at stop.
const shutdownGrace = 5 * time.Second

func runAuth(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("auth", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, authUsage); fs.PrintDefaults() }
	var listens, zones, allowXfr, notify, secondaries listFlag
	fs.Var(&listens, "listen", "address and port to serve on, e.g. 127.0.0.1:53 or [::1]:53 (repeatable)")
	fs.Var(&zones, "zone", "zone to serve as ORIGIN=FILE (repeatable)")
	fs.Var(&allowXfr, "allow-transfer", "CIDR or address allowed to transfer every zone (AXFR/IXFR) (repeatable)")
	fs.Var(&notify, "notify", "secondary ADDR[:PORT] to NOTIFY when a zone's serial advances (repeatable)")
	fs.Var(&secondaries, "secondary", "zone to serve as a secondary, ORIGIN=PRIMARY_ADDR[:PORT] (repeatable)")
	cfgFile := fs.String("config", "", "TOML configuration file (flags add to it)")
	verbose := fs.Bool("v", false, "log debug messages")
	if done, err := parseFlags(fs, args); done {
		return err
	}
	log := daemonLogger(stderr, *verbose)

	load := func() (*config.Auth, error) {
		var c config.Auth
		if *cfgFile != "" {
			if err := config.LoadAuth(*cfgFile, &c); err != nil {
				return nil, err
			}
		}
		c.Listen = append(c.Listen, listens...)
		for _, z := range zones {
			az, err := config.ParseZoneFlag(z)
			if err != nil {
				return nil, err
			}
			c.Zones = append(c.Zones, az)
		}
		c.AllowTransfer = append(c.AllowTransfer, allowXfr...)
		c.Notify = append(c.Notify, notify...)
		for _, v := range secondaries {
			sc, err := config.ParseSecondaryFlag(v)
			if err != nil {
				return nil, err
			}
			c.Secondaries = append(c.Secondaries, sc)
		}
		return &c, c.Validate()
	}
	cfg, err := load()
	if err != nil {
		return exitError{code: 2, msg: "auth: " + err.Error()}
	}
	h := auth.NewHandler(log)
	zs := loadZones(log, cfg, nil)
	if len(zs) == 0 && len(cfg.Secondaries) == 0 {
		return errors.New("auth: no zone could be loaded")
	}
	sv := newServed(ctx, log, h, cfg)
	sv.setFiles(zs)
	// Parsing leaves garbage several times the zones' size: hand it back
	// now rather than whenever the runtime gets to it (a 1M-record zone
	// drops from ~400 to ~225 MiB resident).
	debug.FreeOSMemory()

	addrs, err := parseListen(cfg.Listen)
	if err != nil {
		return exitError{code: 2, msg: "auth: " + err.Error()}
	}
	srv := server.New(server.Config{Listen: addrs, Logger: log}, server.Recover(log)(h))
	if err := srv.Start(ctx); err != nil {
		return fmt.Errorf("auth: %w", err)
	}
	udp, tcp := srv.Addrs()
	log.Info("serving", "zones", len(zs), "secondaries", len(cfg.Secondaries), "udp", udp, "tcp", tcp)
	sv.notifyAll()
	var bg sync.WaitGroup
	bg.Go(func() { sv.run(ctx) })
	defer bg.Wait()

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-hup:
			// Listen addresses are fixed for the process's life; zones and
			// their files are re-read.
			ncfg, err := load()
			if err != nil {
				log.Error("reload: configuration rejected, keeping the old one", "err", err)
				continue
			}
			cfg = ncfg
			sv.setConfig(cfg)
			sv.setFiles(loadZones(log, cfg, sv.fileZones()))
			debug.FreeOSMemory()
			log.Info("reloaded", "zones", len(h.Zones()))
		case <-ctx.Done():
			log.Info("stopping")
			sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
			defer cancel()
			return srv.Shutdown(sctx)
		}
	}
}

// loadZones loads every configured zone. A zone that fails keeps its
// previous version from old (if any): a broken file never replaces a zone
// being served.
func loadZones(log *slog.Logger, cfg *config.Auth, old []*zone.Zone) []*zone.Zone {
	prev := make(map[string]*zone.Zone, len(old))
	for _, z := range old {
		prev[z.Origin] = z
	}
	var out []*zone.Zone
	for _, zc := range cfg.Zones {
		t0 := time.Now()
		z, problems, err := zone.Load(zc.File, zc.Origin, zone.Options{AllowInclude: zc.AllowInclude})
		for _, p := range problems {
			log.Warn("zone problem", "zone", zc.Origin, "problem", p.String())
		}
		if err != nil {
			origin := dnsname.Canonical(zc.Origin)
			if o := prev[origin]; o != nil {
				log.Error("zone not reloaded, still serving the old version", "zone", zc.Origin, "serial", o.SOA.Serial, "err", err)
				out = append(out, o)
			} else {
				log.Error("zone not loaded", "zone", zc.Origin, "err", err)
			}
			continue
		}
		log.Info("zone loaded", "zone", z.Origin, "serial", z.SOA.Serial, "records", z.Records, "took", time.Since(t0).Round(time.Millisecond))
		out = append(out, z)
	}
	return out
}
