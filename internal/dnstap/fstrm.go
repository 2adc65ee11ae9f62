package dnstap

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// ContentType is the Frame Streams content type of dnstap.
const ContentType = "protobuf:dnstap.Dnstap"

// Frame Streams control frame types and the one field (fstrm's
// control.h).
const (
	ctrlAccept = 0x01
	ctrlStart  = 0x02
	ctrlStop   = 0x03
	ctrlReady  = 0x04
	ctrlFinish = 0x05

	fieldContentType = 0x01
)

// maxControlLen bounds a control frame read from the collector: real
// ones hold a type and a content type or two, well under this.
const maxControlLen = 512

// appendControl appends a control frame: the escape (a zero length),
// the control frame's length, its type and, if given, a content type.
func appendControl(b []byte, typ uint32, contentType string) []byte {
	n := 4
	if contentType != "" {
		n += 8 + len(contentType)
	}
	b = binary.BigEndian.AppendUint32(b, 0)
	b = binary.BigEndian.AppendUint32(b, uint32(n))
	b = binary.BigEndian.AppendUint32(b, typ)
	if contentType != "" {
		b = binary.BigEndian.AppendUint32(b, fieldContentType)
		b = binary.BigEndian.AppendUint32(b, uint32(len(contentType)))
		b = append(b, contentType...)
	}
	return b
}

// readControl reads one control frame and returns its type and content
// types.
func readControl(r io.Reader) (uint32, []string, error) {
	var hdr [8]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	if binary.BigEndian.Uint32(hdr[:4]) != 0 {
		return 0, nil, errors.New("frame streams: data frame where a control frame was due")
	}
	n := binary.BigEndian.Uint32(hdr[4:])
	if n < 4 || n > maxControlLen {
		return 0, nil, fmt.Errorf("frame streams: control frame of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, err
	}
	typ := binary.BigEndian.Uint32(body)
	var types []string
	for rest := body[4:]; len(rest) > 0; {
		if len(rest) < 8 {
			return 0, nil, errors.New("frame streams: truncated control field")
		}
		f, l := binary.BigEndian.Uint32(rest), binary.BigEndian.Uint32(rest[4:])
		rest = rest[8:]
		if uint32(len(rest)) < l {
			return 0, nil, errors.New("frame streams: truncated control field")
		}
		if f == fieldContentType {
			types = append(types, string(rest[:l]))
		}
		rest = rest[l:]
	}
	return typ, types, nil
}

// handshake opens a bidirectional Frame Streams session as its writer:
// READY with our content type, the reader's ACCEPT (which must list it),
// then START.
func handshake(rw io.ReadWriter, timeout func(time.Duration)) error {
	timeout(5 * time.Second) // a collector that does not answer is not one
	if _, err := rw.Write(appendControl(nil, ctrlReady, ContentType)); err != nil {
		return err
	}
	typ, types, err := readControl(rw)
	if err != nil {
		return err
	}
	ok := false
	for _, t := range types {
		ok = ok || t == ContentType
	}
	if typ != ctrlAccept || !ok {
		return fmt.Errorf("frame streams: the reader did not accept %s (control %d %q)", ContentType, typ, types)
	}
	_, err = rw.Write(appendControl(nil, ctrlStart, ContentType))
	timeout(0)
	return err
}

// stop ends a session: STOP, then the reader's FINISH.
func stop(w *bufio.Writer, r io.Reader, timeout func(time.Duration)) error {
	timeout(2 * time.Second)
	w.Write(appendControl(nil, ctrlStop, "")) //nolint:errcheck // Flush reports it
	if err := w.Flush(); err != nil {
		return err
	}
	typ, _, err := readControl(r)
	if err == nil && typ != ctrlFinish {
		err = fmt.Errorf("frame streams: control %d where FINISH was due", typ)
	}
	return err
}
