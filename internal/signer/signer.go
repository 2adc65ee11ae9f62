package signer

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/zone"
)

// Policy is how one zone is signed.
type Policy struct {
	Validity time.Duration       // signature lifetime (config.DefaultSignValidity)
	Refresh  time.Duration       // re-sign when less than this remains; below Validity
	NSEC3    *dnssec.NSEC3Params // nil: NSEC
	UnixTime bool                // serial policy "unixtime" (see NextSerial)
	Workers  int                 // signing goroutines
}

// Version is one signed version of a zone and what decides its successor.
type Version struct {
	Zone       *zone.Zone // the signed snapshot: served and transferred
	FileSerial uint32     // the serial of the file it was signed from
	Digest     [32]byte   // of the unsigned content, the keys and the denial method
	Expires    time.Time  // when its signatures expire (all share one period)
	Sigs       int        // RRSIGs made
	DS         []*dns.DS  // for the parent: one per key signing the DNSKEY set
}

// Sign signs the zone loaded from a file. With prev (the version being
// served) and nothing changed since it — same content, keys and denial
// method — and its signatures not yet due for refresh, it returns prev
// and false: a reload of an unchanged file keeps the served version.
// Otherwise it signs a new version with the serial NextSerial gives.
func Sign(unsigned *zone.Zone, keys []*dnssec.Key, pol Policy, prev *Version, now time.Time) (*Version, bool, error) {
	nodes := unsigned.SignerNodes()
	d := digest(nodes, keys, pol.NSEC3)
	if prev != nil && prev.Digest == d && !Due(now, prev.Expires, pol.Refresh) {
		return prev, false, nil
	}
	v, err := sign(unsigned.Origin, nodes, unsigned.SOA.Serial, keys, pol, prev, now)
	if err != nil {
		return nil, false, err
	}
	v.Digest = d
	return v, true, nil
}

// Resign signs prev's content again with fresh signatures and the next
// serial: the refresh before its signatures expire. The zone file is not
// read again, so an edit not yet reloaded is not published by a refresh.
func Resign(prev *Version, keys []*dnssec.Key, pol Policy, now time.Time) (*Version, error) {
	v, err := sign(prev.Zone.Origin, prev.Zone.SignerNodes(), prev.FileSerial, keys, pol, prev, now)
	if err != nil {
		return nil, err
	}
	v.Digest = prev.Digest
	return v, nil
}

func sign(origin string, nodes []dnssec.Node, fileSerial uint32, keys []*dnssec.Key, pol Policy, prev *Version, now time.Time) (*Version, error) {
	var served uint32
	if prev != nil {
		served = prev.Zone.SOA.Serial
	}
	serial := NextSerial(pol.UnixTime, fileSerial, served, prev != nil, now)
	withSerial(nodes, serial)
	inception, expiration := Validity(origin, now, pol.Validity, pol.Refresh)
	signed, err := dnssec.SignZone(origin, nodes, keys, dnssec.SignOptions{
		Validity: dnssec.Validity{Inception: inception, Expiration: expiration},
		NSEC3:    pol.NSEC3,
		Workers:  pol.Workers,
	})
	if err != nil {
		return nil, err
	}
	rrs := make([]dns.RR, 0, len(signed.Nodes)*3)
	signed.Records(func(rr dns.RR) { rrs = append(rrs, rr) })
	z, err := zone.New(origin, rrs)
	if err != nil {
		return nil, fmt.Errorf("signed zone %s: %w", origin, err)
	}
	return &Version{Zone: z, FileSerial: fileSerial, Expires: expiration, Sigs: signed.Sigs, DS: signed.DS}, nil
}

// withSerial gives the apex SOA the serial, on a copy: the loaded zone's
// records are shared with the snapshot being served.
func withSerial(nodes []dnssec.Node, serial uint32) {
	for i, set := range nodes[0].Sets {
		if len(set) > 0 && set[0].Header().Rrtype == dns.TypeSOA {
			soa := dns.Copy(set[0]).(*dns.SOA)
			soa.Serial = serial
			nodes[0].Sets[i] = []dns.RR{soa}
			return
		}
	}
}

// digest sums up what a signed version is made from, DNSSEC records of
// the file excepted (the signer drops them): two loads with the same
// digest sign to the same zone but for the signatures' times.
func digest(nodes []dnssec.Node, keys []*dnssec.Key, nsec3 *dnssec.NSEC3Params) [32]byte {
	h := sha256.New()
	buf := make([]byte, dns.MaxMsgSize) // a record's wire form (TTL included) fits
	put := func(rr dns.RR) {
		n, err := dns.PackRR(rr, buf, 0, nil, false)
		if err != nil {
			// The zone loader refuses unpackable records; hash the text
			// anyway so the digest still depends on the record.
			h.Write([]byte(rr.String()))
			return
		}
		h.Write(buf[:n])
	}
	for _, n := range nodes {
		for _, set := range n.Sets {
			switch set[0].Header().Rrtype {
			case dns.TypeRRSIG, dns.TypeNSEC, dns.TypeNSEC3, dns.TypeNSEC3PARAM:
				continue
			}
			for _, rr := range set {
				put(rr)
			}
		}
	}
	h.Write([]byte("keys"))
	for _, k := range keys {
		put(k.DNSKEY)
		if k.Signer != nil {
			h.Write([]byte{1})
		}
	}
	if nsec3 != nil {
		fmt.Fprintf(h, "nsec3 %d %x %v", nsec3.Iterations, nsec3.Salt, nsec3.OptOut)
	}
	var d [32]byte
	h.Sum(d[:0])
	return d
}
