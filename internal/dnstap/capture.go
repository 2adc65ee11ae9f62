package dnstap

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"time"
)

// maxDataFrame bounds a data frame a Capture accepts: a dnstap message
// holds at most two DNS messages (64 KiB each) and a few addresses.
const maxDataFrame = 256 << 10

// Capture is a minimal collector for tests and debugging: it accepts one
// writer on ln, takes its frames until the writer's STOP (answering
// FINISH), and returns them as a Frame Streams file (START, the data
// frames, STOP), the form dnstap-read reads. The whole session must end
// within timeout.
func Capture(ln net.Listener, timeout time.Duration) ([]byte, error) {
	conn, err := ln.Accept()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(timeout)) //nolint:errcheck
	if typ, types, err := readControl(conn); err != nil || typ != ctrlReady || len(types) != 1 || types[0] != ContentType {
		return nil, fmt.Errorf("capture: READY: %d %q %v", typ, types, err)
	}
	if _, err := conn.Write(appendControl(nil, ctrlAccept, ContentType)); err != nil {
		return nil, err
	}
	if typ, types, err := readControl(conn); err != nil || typ != ctrlStart || len(types) != 1 || types[0] != ContentType {
		return nil, fmt.Errorf("capture: START: %d %q %v", typ, types, err)
	}
	file := appendControl(nil, ctrlStart, ContentType)
	for {
		var n [4]byte
		if _, err := io.ReadFull(conn, n[:]); err != nil {
			return nil, fmt.Errorf("capture: %w", err)
		}
		l := binary.BigEndian.Uint32(n[:])
		if l == 0 { // a control frame: it must be STOP
			var hdr [8]byte
			if _, err := io.ReadFull(conn, hdr[:]); err != nil || binary.BigEndian.Uint32(hdr[4:]) != ctrlStop {
				return nil, fmt.Errorf("capture: STOP: %x %v", hdr, err)
			}
			if _, err := conn.Write(appendControl(nil, ctrlFinish, "")); err != nil {
				return nil, err
			}
			return append(file, appendControl(nil, ctrlStop, "")...), nil
		}
		if l > maxDataFrame {
			return nil, fmt.Errorf("capture: data frame of %d bytes", l)
		}
		frame := make([]byte, l)
		if _, err := io.ReadFull(conn, frame); err != nil {
			return nil, fmt.Errorf("capture: %w", err)
		}
		file = append(append(file, n[:]...), frame...)
	}
}
