package main

import (
	"fmt"
	"io"
	"os"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/zone"
)

// rrsigTime is the RRSIG time format (RFC 4034 3.2), which --at takes.
const rrsigTime = "20060102150405"

// signedFile is a signed zone checked by zone check, kept for the DS
// check across files.
type signedFile struct {
	z     *zone.Zone
	where map[dns.RR]zone.Entry // each record's file and line
}

// checkDNSSECFile reads a zone file that loaded without errors again, with
// each record's line, and reports its DNSSEC problems (zone.CheckDNSSEC)
// as "file:line: message". It returns the zone for the DS check and
// whether it had no problem.
func checkDNSSECFile(file, origin string, opt zone.Options, now time.Time, stdout, stderr io.Writer) (*signedFile, bool) {
	f, err := os.Open(file)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", file, err)
		return nil, false
	}
	defer f.Close()
	entries, _ := zone.Parse(f, origin, file, opt)
	rrs := make([]dns.RR, len(entries))
	sf := &signedFile{where: make(map[dns.RR]zone.Entry, len(entries))}
	for i, e := range entries {
		rrs[i] = e.RR
		sf.where[e.RR] = e
	}
	// The records passed the load already; New keeps them (the same
	// pointers), so every finding can be traced to its line.
	if sf.z, err = zone.New(origin, rrs); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", file, err)
		return nil, false
	}
	findings := zone.CheckDNSSEC(sf.z, now)
	sf.report(file, findings, stderr)
	if len(findings) > 0 {
		fmt.Fprintf(stdout, "%s: zone %s/IN: DNSSEC: %d problem(s)\n", file, sf.z.Origin, len(findings))
		return sf, false
	}
	fmt.Fprintf(stdout, "%s: zone %s/IN: DNSSEC: signatures and chain verified\n", file, sf.z.Origin)
	return sf, true
}

func (sf *signedFile) report(file string, findings []zone.Finding, stderr io.Writer) {
	for _, fd := range findings {
		p := zone.Problem{File: file, Msg: fd.Msg}
		if e, ok := sf.where[fd.RR]; ok {
			p.File, p.Line = e.File, e.Line
		}
		fmt.Fprintln(stderr, p.String())
	}
}

// checkDSAcross checks, for every pair of given zones where one is
// delegated from the other, that the parent's DS records match keys of
// the child (RFC 4035 5.2). It reports whether all did.
func checkDSAcross(files []*signedFile, stderr io.Writer) bool {
	ok := true
	for _, child := range files {
		for _, parent := range files {
			if parent == child || !dnsname.IsSubdomain(child.z.Origin, parent.z.Origin) || child.z.Origin == parent.z.Origin {
				continue
			}
			n := parent.z.Node(child.z.Origin)
			if n == nil || !n.Cut {
				continue
			}
			findings := zone.CheckDS(n.Get(dns.TypeDS), child.z)
			if len(findings) > 0 {
				ok = false
				file := ""
				if len(n.Sets) > 0 {
					file = parent.where[n.Sets[0].RRs[0]].File
				}
				parent.report(file, findings, stderr)
			}
		}
	}
	return ok
}
