package auth

import (
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/wire"
)

// cacheKey builds the answer-cache key: the lower-cased question name,
// the type, and the query bits the answer depends on.
func cacheKey(buf []byte, msg []byte, q *wire.Query) []byte {
	buf = dnsname.AppendLowerWire(buf[:0], q.Name(msg))
	var bits byte
	if q.EDNS {
		bits |= 1
	}
	if q.DO() {
		bits |= 2
	}
	if q.RD() {
		bits |= 4
	}
	if q.CD() {
		bits |= 8
	}
	return append(buf, byte(q.Type>>8), byte(q.Type), bits)
}
