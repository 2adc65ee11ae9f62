package auth

import "github.com/rootline-dns/rootline/internal/wire"

// cacheKey builds the answer-cache key: the lower-cased question name,
// the type, and the query bits the answer depends on.
func cacheKey(buf []byte, msg []byte, q *wire.Query) []byte {
	buf = buf[:0]
	for _, c := range q.Name(msg) {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf = append(buf, c)
	}
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
