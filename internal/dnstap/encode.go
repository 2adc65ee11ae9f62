// Package dnstap logs DNS messages in the dnstap format (dnstap.info):
// protobuf messages carried over a Frame Streams connection to a
// collector on a Unix socket. The few protobuf fields dnstap needs are
// encoded by hand (no protobuf dependency); the writer never blocks the
// query path (a bounded queue, dropping and counting when the reader is
// slow).
package dnstap

import (
	"encoding/binary"
	"net/netip"
	"time"
)

// Type is a dnstap Message.Type (dnstap.proto).
type Type uint8

// The message types Rootline logs.
const (
	AuthQuery        Type = 1
	AuthResponse     Type = 2
	ResolverQuery    Type = 3
	ResolverResponse Type = 4
	ClientQuery      Type = 5
	ClientResponse   Type = 6
)

// Protocol is a dnstap SocketProtocol.
type Protocol uint8

// The transports Rootline serves.
const (
	UDP Protocol = 1
	TCP Protocol = 2
	DOT Protocol = 3 // DNS over TLS
	DOH Protocol = 4 // DNS over HTTPS
	DOQ Protocol = 7 // DNS over QUIC
)

// Message is one event: a DNS message and where it went. Query and
// Response are the query's sender and receiver (for a client query, the
// client and us; for a resolver query, us and the upstream server).
type Message struct {
	Type     Type
	Protocol Protocol
	Query    netip.AddrPort // query_address/query_port
	Response netip.AddrPort // response_address/response_port
	Time     time.Time      // when the message was sent or received
	Wire     []byte         // the DNS message
}

// isQuery reports whether m's message is a query (it goes in
// query_message, with query_time; responses in response_message).
func (m *Message) isQuery() bool { return m.Type%2 == 1 }

// Protobuf wire types.
const (
	pbVarint  = 0
	pbBytes   = 2
	pbFixed32 = 5
)

func appendKey(b []byte, field, wt int) []byte {
	return binary.AppendUvarint(b, uint64(field<<3|wt))
}

func appendVarint(b []byte, field int, v uint64) []byte {
	return binary.AppendUvarint(appendKey(b, field, pbVarint), v)
}

func appendBytes(b []byte, field int, v []byte) []byte {
	b = binary.AppendUvarint(appendKey(b, field, pbBytes), uint64(len(v)))
	return append(b, v...)
}

func appendFixed32(b []byte, field int, v uint32) []byte {
	return binary.LittleEndian.AppendUint32(appendKey(b, field, pbFixed32), v)
}

// Field numbers of dnstap.proto's Dnstap and Message.
const (
	dtIdentity = 1
	dtVersion  = 2
	dtMessage  = 14
	dtType     = 15
	dtMESSAGE  = 1 // Dnstap.Type MESSAGE

	msgType            = 1
	msgSocketFamily    = 2
	msgSocketProtocol  = 3
	msgQueryAddress    = 4
	msgResponseAddress = 5
	msgQueryPort       = 6
	msgResponsePort    = 7
	msgQueryTimeSec    = 8
	msgQueryTimeNsec   = 9
	msgQueryMessage    = 10
	msgResponseSec     = 12
	msgResponseNsec    = 13
	msgResponseMessage = 14

	familyINET  = 1
	familyINET6 = 2
)

// AppendFrame appends the Dnstap protobuf of m, with the sender's identity
// and version (empty: left out), to b.
func AppendFrame(b []byte, identity, version string, m *Message) []byte {
	var mb [64]byte // the Message, without its DNS payload, fits here
	msg := appendVarint(mb[:0], msgType, uint64(m.Type))
	qa, ra := m.Query.Addr().Unmap(), m.Response.Addr().Unmap()
	family := uint64(familyINET)
	if qa.Is6() || ra.Is6() {
		family = familyINET6
		qa, ra = m.Query.Addr(), m.Response.Addr() // keep both 16 bytes
	}
	msg = appendVarint(msg, msgSocketFamily, family)
	msg = appendVarint(msg, msgSocketProtocol, uint64(m.Protocol))
	if qa.IsValid() {
		msg = appendBytes(msg, msgQueryAddress, qa.AsSlice())
		msg = appendVarint(msg, msgQueryPort, uint64(m.Query.Port()))
	}
	if ra.IsValid() {
		msg = appendBytes(msg, msgResponseAddress, ra.AsSlice())
		msg = appendVarint(msg, msgResponsePort, uint64(m.Response.Port()))
	}
	sec, nsec, payload := msgQueryTimeSec, msgQueryTimeNsec, msgQueryMessage
	if !m.isQuery() {
		sec, nsec, payload = msgResponseSec, msgResponseNsec, msgResponseMessage
	}
	msg = appendVarint(msg, sec, uint64(m.Time.Unix()))
	msg = appendFixed32(msg, nsec, uint32(m.Time.Nanosecond()))
	// The DNS message goes last, written straight into b.
	msgLen := len(msg) + sizeBytes(payload, len(m.Wire))

	if identity != "" {
		b = appendBytes(b, dtIdentity, []byte(identity))
	}
	if version != "" {
		b = appendBytes(b, dtVersion, []byte(version))
	}
	b = binary.AppendUvarint(appendKey(b, dtMessage, pbBytes), uint64(msgLen))
	b = append(b, msg...)
	b = appendBytes(b, payload, m.Wire)
	return appendVarint(b, dtType, dtMESSAGE)
}

// sizeBytes is the encoded size of a bytes field of n bytes.
func sizeBytes(field, n int) int {
	var tmp [2 * binary.MaxVarintLen64]byte
	return len(appendKey(tmp[:0], field, pbBytes)) + len(binary.AppendUvarint(tmp[:0], uint64(n))) + n
}
