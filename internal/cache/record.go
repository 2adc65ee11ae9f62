package cache

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/wire"
)

// An entry's bytes are its key, then its records in wire form:
//
//	key:    NAME (uncompressed, lower case) TYPE
//	record: OWNER TYPE CLASS TTL RDLENGTH RDATA
//
// OWNER is the compression pointer 0xC00C when the record belongs to the
// key's name, else the uncompressed lower-case owner (the SOA of a negative
// entry). 0xC00C points at offset 12, where a reply's question name sits
// (RFC 1035 4.1.4), so header + question + these records is a complete
// reply with no rewriting beyond the TTLs. RDATA names are not
// compressed, so the records also decode on their own; a negative
// entry's records are the exception, compressed for their place in the
// reply (compress.go).

const (
	// maxName is the longest wire name (RFC 1035 3.1).
	maxName = 255
	// ptrHi, ptrLo: a compression pointer to offset 12.
	ptrHi, ptrLo = 0xC0, headerLen
	// maxRRs bounds an RRset: the count is kept in 16 bits, as in a DNS
	// header, and no real set comes close.
	maxRRs = 1<<16 - 1
)

var errCorrupt = errors.New("cache: corrupt entry")

func lowerASCII(b []byte) {
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
}

// appendRecords appends rrs to dst in the entry encoding, every TTL set to
// ttl.
func appendRecords(dst, wname []byte, rrs []dns.RR, ttl uint32) ([]byte, error) {
	// Each record is packed inside a message, not with dns.PackRR, which
	// stores the RDLENGTH it computed into the record's header: a write
	// into records that other goroutines (validations, other cache
	// writers) share.
	var single [1]dns.RR
	m := dns.Msg{Answer: single[:]}
	var scratch []byte
	for _, rr := range rrs {
		single[0] = rr
		n := dns.Len(rr) + headerLen + 16
		if cap(scratch) < n {
			scratch = make([]byte, n)
		}
		packed, err := m.PackBuffer(scratch[:cap(scratch)])
		if err != nil {
			return nil, fmt.Errorf("cache: packing %s record: %w", dns.TypeToString[rr.Header().Rrtype], err)
		}
		w := packed[headerLen:]
		ol := wire.SkipName(w, 0)
		if ol < 0 || ol+10 > len(w) {
			return nil, errCorrupt
		}
		lowerASCII(w[:ol])
		if bytes.Equal(w[:ol], wname) {
			dst = append(dst, ptrHi, ptrLo)
		} else {
			dst = append(dst, w[:ol]...)
		}
		dst = append(dst, w[ol:ol+4]...)
		dst = binary.BigEndian.AppendUint32(dst, ttl)
		dst = append(dst, w[ol+8:]...)
	}
	return dst, nil
}

// ownerEnd returns the offset just past the owner of the record at off.
func ownerEnd(recs []byte, off int) int {
	return wire.SkipName(recs, off) // stored by appendRecords: well-formed
}

// decodeRecords materialises n encoded records as dns.RR with the given
// TTL; records owned by the key get owner as their name.
func decodeRecords(recs []byte, n int, owner string, ttl uint32) ([]dns.RR, error) {
	return decodeRecordsFrom(recs, 0, n, owner, ttl)
}

// decodeRecordsFrom is decodeRecords for records starting at off in recs,
// whose other names may point anywhere before them in recs (a negative
// entry's, decoded within the reply they were compressed for).
func decodeRecordsFrom(recs []byte, off, n int, owner string, ttl uint32) ([]dns.RR, error) {
	rrs := make([]dns.RR, 0, n)
	for range n {
		if off+1 >= len(recs) {
			return nil, errCorrupt
		}
		name := owner
		if recs[off] == ptrHi && recs[off+1] == ptrLo {
			off += 2
		} else {
			var err error
			if name, off, err = dns.UnpackDomainName(recs, off); err != nil {
				return nil, fmt.Errorf("cache: decoding owner: %w", err)
			}
		}
		if off+10 > len(recs) {
			return nil, errCorrupt
		}
		h := dns.RR_Header{Name: name, Rrtype: binary.BigEndian.Uint16(recs[off:]), Class: binary.BigEndian.Uint16(recs[off+2:]),
			Ttl: ttl, Rdlength: binary.BigEndian.Uint16(recs[off+8:])}
		rr, end, err := decodeRdata(h, recs, off+10)
		if err != nil {
			return nil, fmt.Errorf("cache: decoding %s record: %w", dns.TypeToString[h.Rrtype], err)
		}
		rrs = append(rrs, rr)
		off = end
	}
	return rrs, nil
}

// sameRecords reports whether two encodings hold the same records in the
// same order, TTLs aside.
func sameRecords(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for off := 0; off < len(a); {
		s := off
		off = ownerEnd(a, off)
		if off+10 > len(a) || !bytes.Equal(a[s:off+4], b[s:off+4]) {
			return false
		}
		end := off + 10 + int(binary.BigEndian.Uint16(a[off+8:]))
		if end > len(a) || !bytes.Equal(a[off+8:end], b[off+8:end]) {
			return false
		}
		off = end
	}
	return true
}

// recordsEnd returns the offset just past the first n encoded records.
func recordsEnd(recs []byte, n int) int {
	off := 0
	for range n {
		off = ownerEnd(recs, off)
		off += 10 + int(binary.BigEndian.Uint16(recs[off+8:]))
	}
	return off
}

// patchTTLs sets the TTL of n encoded records.
func patchTTLs(recs []byte, n int, ttl uint32) {
	off := 0
	for range n {
		off = ownerEnd(recs, off)
		binary.BigEndian.PutUint32(recs[off+4:], ttl)
		off += 10 + int(binary.BigEndian.Uint16(recs[off+8:]))
	}
}

// decodeRdata builds the commonest record types directly and leaves the
// rest to miekg/dns (whose general path costs one more allocation).
func decodeRdata(h dns.RR_Header, recs []byte, off int) (dns.RR, int, error) {
	end := off + int(h.Rdlength)
	if end > len(recs) {
		return nil, 0, errCorrupt
	}
	rd := recs[off:end]
	switch {
	case h.Rrtype == dns.TypeA && len(rd) == net.IPv4len:
		ip := make(net.IP, net.IPv4len)
		copy(ip, rd)
		return &dns.A{Hdr: h, A: ip}, end, nil
	case h.Rrtype == dns.TypeAAAA && len(rd) == net.IPv6len:
		ip := make(net.IP, net.IPv6len)
		copy(ip, rd)
		return &dns.AAAA{Hdr: h, AAAA: ip}, end, nil
	case h.Rrtype == dns.TypeNS || h.Rrtype == dns.TypeCNAME:
		name, n, err := dns.UnpackDomainName(recs, off)
		if err != nil || n != end {
			break
		}
		if h.Rrtype == dns.TypeNS {
			return &dns.NS{Hdr: h, Ns: name}, end, nil
		}
		return &dns.CNAME{Hdr: h, Target: name}, end, nil
	}
	// The message ends with this record's RDATA: miekg/dns reads some
	// RDATA (an NSEC type bitmap, RFC 4034 4.1.2) up to the end of the
	// message, which would run into the records stored after it.
	return dns.UnpackRRWithHeader(h, recs[:end], off)
}
