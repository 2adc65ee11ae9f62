package e2e

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"time"
)

const (
	// replyWait bounds the wait for one reply. NSD and Knot drop some odd
	// messages (QR set, garbage) on purpose, so silence is a valid outcome
	// and every query must end on its own; loopback answers take well under
	// a millisecond, so 500 ms only costs time on the few dropped ones.
	replyWait = 500 * time.Millisecond
	// maxReply is the largest DNS message (the TCP length prefix is two
	// bytes), the buffer a reply is read into.
	maxReply = 65535
)

// outcome is what one server did with one query: a reply, silence, or a
// closed connection.
type outcome struct {
	reply  []byte
	silent bool   // no reply within replyWait
	closed string // TCP: connection closed or reset before a reply
}

// exchangeUDP sends wire to addr from a fresh socket (so no late reply to an
// earlier query can be mistaken for this one's) and waits for one datagram.
func exchangeUDP(addr netip.AddrPort, wire []byte) (outcome, error) {
	c, err := net.DialUDP("udp", nil, net.UDPAddrFromAddrPort(addr))
	if err != nil {
		return outcome{}, fmt.Errorf("dial %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(replyWait)); err != nil {
		return outcome{}, err
	}
	if _, err := c.Write(wire); err != nil {
		return outcome{}, fmt.Errorf("send to %s: %w", addr, err)
	}
	buf := make([]byte, maxReply)
	n, err := c.Read(buf)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return outcome{silent: true}, nil
		}
		// ICMP port unreachable surfaces here: the server is gone.
		return outcome{}, fmt.Errorf("read from %s: %w", addr, err)
	}
	return outcome{reply: buf[:n]}, nil
}

// exchangeTCP sends wire with its two-byte length prefix (RFC 1035 4.2.2)
// on a fresh connection and reads one reply.
// dialTries bounds the dials of one TCP query.
const dialTries = 4

func exchangeTCP(addr netip.AddrPort, wire []byte) (outcome, error) {
	var c net.Conn
	var err error
	// A SYN dropped while the server's accept queue is full (NSD under a
	// loaded CI machine) times the dial out: that is no answer to judge,
	// so dial again a few times. A refused connection fails at once.
	for try := 0; try < dialTries; try++ {
		c, err = net.DialTimeout("tcp", addr.String(), replyWait)
		var ne net.Error
		if err == nil || !errors.As(err, &ne) || !ne.Timeout() {
			break
		}
	}
	if err != nil {
		return outcome{}, fmt.Errorf("dial %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(replyWait)); err != nil {
		return outcome{}, err
	}
	msg := make([]byte, 2+len(wire))
	binary.BigEndian.PutUint16(msg, uint16(len(wire)))
	copy(msg[2:], wire)
	if _, err := c.Write(msg); err != nil {
		return outcome{closed: "write: " + err.Error()}, nil
	}
	var lenBuf [2]byte
	if _, err := io.ReadFull(c, lenBuf[:]); err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return outcome{silent: true}, nil
		}
		return outcome{closed: "closed without a reply"}, nil
	}
	buf := make([]byte, binary.BigEndian.Uint16(lenBuf[:]))
	if _, err := io.ReadFull(c, buf); err != nil {
		return outcome{closed: "reply cut short: " + err.Error()}, nil
	}
	return outcome{reply: buf}, nil
}
