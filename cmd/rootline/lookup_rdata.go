package main

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// digChunk is the width dig's default style splits long hex and base64
// fields at (BIND prints them in words of width-2 = 56 characters on one
// line): the +short output of DS, TLSA, DNSKEY, RRSIG... depends on it.
const digChunk = 56

// rdataText is a record's data in presentation format exactly as dig
// prints it (what +short shows). miekg/dns's text is used where it already
// matches BIND's; the types below differ and are formatted here.
func rdataText(rr dns.RR) string {
	switch v := rr.(type) {
	case *dns.DS:
		return fmt.Sprintf("%d %d %d %s", v.KeyTag, v.Algorithm, v.DigestType, chunk(strings.ToUpper(v.Digest)))
	case *dns.CDS:
		return fmt.Sprintf("%d %d %d %s", v.KeyTag, v.Algorithm, v.DigestType, chunk(strings.ToUpper(v.Digest)))
	case *dns.TLSA:
		return fmt.Sprintf("%d %d %d %s", v.Usage, v.Selector, v.MatchingType, chunk(strings.ToUpper(v.Certificate)))
	case *dns.SMIMEA:
		return fmt.Sprintf("%d %d %d %s", v.Usage, v.Selector, v.MatchingType, chunk(strings.ToUpper(v.Certificate)))
	case *dns.SSHFP:
		return fmt.Sprintf("%d %d %s", v.Algorithm, v.Type, chunk(strings.ToUpper(v.FingerPrint)))
	case *dns.ZONEMD:
		return fmt.Sprintf("%d %d %d %s", v.Serial, v.Scheme, v.Hash, chunk(strings.ToUpper(v.Digest)))
	case *dns.DNSKEY:
		return fmt.Sprintf("%d %d %d %s", v.Flags, v.Protocol, v.Algorithm, chunk(v.PublicKey))
	case *dns.CDNSKEY:
		return fmt.Sprintf("%d %d %d %s", v.Flags, v.Protocol, v.Algorithm, chunk(v.PublicKey))
	case *dns.RRSIG:
		return fmt.Sprintf("%s %d %d %d %s %s %d %s %s", typeString(v.TypeCovered), v.Algorithm, v.Labels, v.OrigTtl,
			dns.TimeToString(v.Expiration), dns.TimeToString(v.Inception), v.KeyTag, v.SignerName, chunk(v.Signature))
	case *dns.DHCID:
		return chunk(v.Digest)
	case *dns.OPENPGPKEY:
		return chunk(v.PublicKey)
	case *dns.LOC:
		return locText(v)
	case *dns.SVCB:
		return svcbText(v.Priority, v.Target, v.Value)
	case *dns.HTTPS:
		return svcbText(v.Priority, v.Target, v.Value)
	case *dns.RFC3597:
		return unknownText(v)
	}
	return strings.TrimPrefix(rr.String(), rr.Header().String())
}

// rrText is a whole record as dig prints it by default.
func rrText(rr dns.RR) string {
	var b strings.Builder
	o := defaultQueryOpts()
	styleFor(&o).record(&b, rr)
	return b.String()
}

// chunk splits a long hex or base64 field into space-separated words.
func chunk(s string) string {
	if len(s) <= digChunk {
		return s
	}
	var b strings.Builder
	for len(s) > digChunk {
		b.WriteString(s[:digChunk])
		b.WriteByte(' ')
		s = s[digChunk:]
	}
	b.WriteString(s)
	return b.String()
}

// locText follows RFC 1876 section 3 as BIND prints it: degrees and minutes
// unpadded, seconds with three decimals, altitude with two, sizes in
// centimetres below 1 m (exponent < 2) and whole metres above.
func locText(v *dns.LOC) string {
	coord := func(x uint32, pos, neg string) string {
		d := int64(x) - 1<<31 // RFC 1876: 2^31 is the equator / prime meridian
		h := pos
		if d < 0 {
			d, h = -d, neg
		}
		return fmt.Sprintf("%d %d %d.%03d %s", d/3600000, d%3600000/60000, d%60000/1000, d%1000, h)
	}
	alt := int64(v.Altitude) - 10000000 // RFC 1876: altitude is offset by 100 km
	sign := ""
	if alt < 0 {
		sign, alt = "-", -alt
	}
	return fmt.Sprintf("%s %s %s%d.%02dm %s %s %s", coord(v.Latitude, "N", "S"), coord(v.Longitude, "E", "W"),
		sign, alt/100, alt%100, locSize(v.Size), locSize(v.HorizPre), locSize(v.VertPre))
}

// locSize decodes RFC 1876's mantissa/exponent size (in centimetres).
func locSize(b uint8) string {
	m, e := int64(b>>4), int(b&0xF)
	cm := m
	for range min(e, 9) {
		cm *= 10
	}
	if e < 2 {
		return fmt.Sprintf("%d.%02dm", cm/100, cm%100)
	}
	return fmt.Sprintf("%dm", cm/100)
}

// svcbText prints SVCB/HTTPS (RFC 9460) with BIND's quoting: alpn,
// dohpath and unknown keys quoted, the other values bare.
func svcbText(prio uint16, target string, kvs []dns.SVCBKeyValue) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %s", prio, target)
	for _, kv := range kvs {
		key, val := kv.Key().String(), kv.String()
		b.WriteByte(' ')
		b.WriteString(key)
		switch {
		case val == "":
		case key == "alpn" || key == "dohpath" || strings.HasPrefix(key, "key"):
			fmt.Fprintf(&b, "=%q", val)
		case key == "ech":
			// miekg already gives base64; keep it bare.
			if _, err := base64.StdEncoding.DecodeString(val); err == nil {
				b.WriteString("=" + val)
			} else {
				fmt.Fprintf(&b, "=%q", val)
			}
		default:
			b.WriteString("=" + val)
		}
	}
	return b.String()
}
