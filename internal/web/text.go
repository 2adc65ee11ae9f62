package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The text form of an explanation (GET /api/explain?format=text), for
// rootline lookup +explain, which then needs no JSON decoder:
//
//	reply BASE64     (the reply as sent, standard base64; "-" when dropped)
//	elapsed NS       (the resolver's time, in nanoseconds)
//	one sentence per line
//
// Sentences never hold a line break (they are built from names, numbers
// and error texts, which WriteText flattens).

// WriteText writes e in the text form.
func WriteText(e *Explanation) []byte {
	var b bytes.Buffer
	reply := "-"
	if len(e.Reply) > 0 {
		reply = base64.StdEncoding.EncodeToString(e.Reply)
	}
	b.WriteString("reply " + reply + "\nelapsed " + strconv.FormatInt(e.Elapsed.Nanoseconds(), 10) + "\n")
	for _, s := range e.Sentences {
		b.WriteString(strings.ReplaceAll(s, "\n", " "))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// errText is any text that is not an explanation.
var errText = errors.New("explanation: not the text form (reply, elapsed, sentences)")

// ParseText reads the text form: the reply, the time and the sentences.
func ParseText(b []byte) (*Explanation, error) {
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) < 2 {
		return nil, errText
	}
	reply, ok1 := strings.CutPrefix(lines[0], "reply ")
	el, ok2 := strings.CutPrefix(lines[1], "elapsed ")
	ns, err := strconv.ParseInt(el, 10, 64)
	if !ok1 || !ok2 || err != nil || ns < 0 {
		return nil, errText
	}
	e := &Explanation{Elapsed: time.Duration(ns), Sentences: lines[2:]}
	if reply != "-" {
		if e.Reply, err = base64.StdEncoding.DecodeString(reply); err != nil {
			return nil, errText
		}
	}
	return e, nil
}
