package server

// Event is something a listener did that no handler sees: the hook for
// metrics (Config.Observe), since middleware only sees queries that reach
// a handler.
type Event uint8

const (
	// EventMalformed: a datagram or TCP message too short (or too long)
	// to be a DNS message, dropped; on TCP the connection is closed.
	EventMalformed Event = iota
	// EventResponse: a message with QR set, dropped (reflection loops).
	EventResponse
	// EventTCPRefused: a connection closed at once, over MaxTCPConns.
	EventTCPRefused
	// EventTCPTimeout: a connection closed by the idle or read timeout.
	EventTCPTimeout
	// EventSendFailed: a reply the kernel would not send.
	EventSendFailed
	// EventRRLDrop: a UDP response dropped by response rate limiting.
	EventRRLDrop
	// EventRRLSlip: a UDP response sent empty with TC by response rate
	// limiting (the slip), so that a real client retries over TCP.
	EventRRLSlip
	// EventTCPEvicted: an idle TCP connection closed to make room for a
	// new one (RFC 7766 6.2.3), the connection limit being reached.
	EventTCPEvicted

	// NumEvents is the number of Event values.
	NumEvents = iota
)

var eventNames = [...]string{"malformed", "response", "tcp_refused", "tcp_timeout", "send_failed", "rrl_dropped", "rrl_slipped", "tcp_evicted"}

func (e Event) String() string {
	if int(e) < len(eventNames) {
		return eventNames[e]
	}
	return "unknown"
}

// observe reports e if an observer is configured.
func (s *Server) observe(e Event, p Proto) {
	if s.cfg.Observe != nil {
		s.cfg.Observe(e, p)
	}
}
