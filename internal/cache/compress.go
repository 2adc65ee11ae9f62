package cache

import (
	"encoding/binary"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// The records of an entry are stored with uncompressed names (record.go),
// except a negative entry's: its SOA is owned by the zone, not the
// question's name, and names two more in its RDATA, so that stored as it
// is a cached NXDOMAIN would be a third larger than the fresh reply, which
// miekg/dns packs with compression (95 against 128 bytes for a short
// name). A negative entry's records are compressed once, when stored
// (compressRecords), with pointers into the reply the fast path writes:
// the question's name at offset 12 (always the key's length), the records
// right after the question. A hit copies them as they are; Get decodes
// them within such a reply (decodeInReply).

// maxPtr is the highest offset a compression pointer can reach (14 bits).
const maxPtr = 0x3FFF

// appendCompressed appends the n encoded records recs to out, a reply
// whose question name is out[headerLen:qend], compressing each owner name
// and the names in SOA RDATA (RFC 1035 4.1.4; SOA is one of the types
// whose RDATA names may be compressed, RFC 3597 4) against the question,
// the previous owner and, within an SOA, its owner and MNAME, as a packer
// with a full compression table would for these replies. Other RDATA is
// copied as it is: later types' names must not be compressed (RFC 3597 4,
// RFC 4034 3.1.7).
func appendCompressed(out []byte, qend int, recs []byte, n int) []byte {
	off := 0
	var owner written // the last owner written by name
	for range n {
		end := ownerEnd(recs, off)
		if recs[off]&0xC0 == 0xC0 { // the question's own name: a pointer already
			out = append(out, recs[off:end]...)
		} else {
			var w written
			out, w = appendName(out, recs[off:end], qend, owner)
			if w.lit > 0 {
				owner = w
			}
		}
		typ := binary.BigEndian.Uint16(recs[end:])
		rdlen := int(binary.BigEndian.Uint16(recs[end+8:]))
		next := end + 10 + rdlen
		if typ != dns.TypeSOA {
			out = append(out, recs[end:next]...)
			off = next
			continue
		}
		rd := recs[end+10 : next]
		hdr := len(out)
		out = append(out, recs[end:end+10]...)
		m := skipPlain(rd, 0)
		r := skipPlain(rd, m)
		if m < 0 || r < 0 {
			out = append(out, rd...) // not as appendRecords stores it: copied as it is
		} else {
			var mname written
			out, mname = appendName(out, rd[:m], qend, owner)
			out, _ = appendName(out, rd[m:r], qend, owner, mname)
			out = append(out, rd[r:]...)
		}
		binary.BigEndian.PutUint16(out[hdr+8:], uint16(len(out)-hdr-10))
		off = next
	}
	return out
}

// written is a name written into a reply: at offset at, its uncompressed
// form name, of which the first lit bytes were written as labels (a
// pointer, if any, follows them). Only those can be pointed to.
type written struct {
	at, lit int
	name    []byte
}

// appendName appends the uncompressed wire name to out with its longest
// suffix (longer than the root label) found in the question name
// (out[headerLen:qend]) or in a name written before replaced by a pointer
// to it, and reports what it wrote.
func appendName(out, name []byte, qend int, before ...written) ([]byte, written) {
	q := written{at: headerLen, lit: qend - headerLen, name: out[headerLen:qend]}
	for i := 0; i+2 < len(name) && name[i] != 0; i += 1 + int(name[i]) {
		suffix := name[i:]
		at := q.find(suffix)
		for _, w := range before {
			if at < 0 {
				at = w.find(suffix)
			}
		}
		if at >= 0 {
			w := written{at: len(out), lit: i, name: name}
			out = append(out, name[:i]...)
			return append(out, 0xC0|byte(at>>8), byte(at)), w
		}
	}
	w := written{at: len(out), lit: len(name), name: name}
	return append(out, name...), w
}

// find returns the offset in the reply where suffix is spelt as labels of
// w (ASCII case aside), or -1. A suffix can only start at a label: its
// labels are walked to the one whose remaining length is the suffix's.
func (w written) find(suffix []byte) int {
	for k := 0; k < w.lit && k < len(w.name) && w.name[k] != 0; k += 1 + int(w.name[k]) {
		switch rest := len(w.name) - k; {
		case rest > len(suffix):
			continue
		case rest == len(suffix) && dnsname.EqualFoldWire(w.name[k:], suffix) && w.at+k <= maxPtr:
			return w.at + k
		}
		return -1
	}
	return -1
}

// skipPlain returns the offset past the uncompressed name at off in b, or
// -1 when there is none (a pointer or a cut name).
func skipPlain(b []byte, off int) int {
	if off < 0 {
		return -1
	}
	for off < len(b) {
		l := int(b[off])
		switch {
		case l == 0:
			return off + 1
		case l&0xC0 != 0:
			return -1
		}
		off += 1 + l
	}
	return -1
}

// compressRecords returns the n encoded records recs (appendRecords'
// form, owned by the key wname) compressed as they will sit in a reply
// to a question for wname (appendCompressed), appended to dst.
func compressRecords(dst, wname, recs []byte, n int) []byte {
	var sb [512]byte
	msg := append(append(sb[:headerLen], wname...), 0, 0, 0, 0) // header and question, their bytes unused
	base := len(msg)
	msg = appendCompressed(msg, headerLen+len(wname), recs, n)
	return append(dst, msg[base:]...)
}

// decodeInReply decodes records compressed by compressRecords: within a
// copy of the reply they point into, the first n from the start of recs
// and the next nsig after them.
func decodeInReply(wname, recs []byte, n, nsig int, owner string, ttl uint32) (rrs, sigs []dns.RR, err error) {
	base := headerLen + len(wname) + 4
	msg := make([]byte, base+len(recs))
	copy(msg[headerLen:], wname)
	copy(msg[base:], recs)
	if rrs, err = decodeRecordsFrom(msg, base, n, owner, ttl); err != nil || nsig == 0 {
		return rrs, nil, err
	}
	sigs, err = decodeRecordsFrom(msg, base+recordsEnd(recs, n), nsig, owner, ttl)
	return rrs, sigs, err
}
