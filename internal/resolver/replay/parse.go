// Package replay runs Unbound's resolver replay scenarios (.rpl files)
// against Rootline's resolver: a scripted network of canned answers, a
// fake clock, client queries and expected answers. DNSSEC scenarios run
// with the resolver validating (dnssec.go maps trust anchors, the
// validation date and negative anchors). Scenarios that need what Rootline
// does not do (RPZ, local zones, Unbound's own test steps and options) are
// skipped with a reason, never silently passed; testdata/fail.txt says why
// each replayed one that fails does.
package replay

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"github.com/miekg/dns"
)

// Limits on a scenario file, so that a broken or hostile file cannot make
// the parser use unbounded memory: Unbound's largest scenario has a few
// thousand lines and a few hundred entries.
const (
	maxLines   = 100000
	maxEntries = 10000
	maxLineLen = 64 << 10
)

// Scenario is one parsed .rpl file.
type Scenario struct {
	Name    string
	Options map[string][]string // "server:qname-minimisation" -> ["yes"]; "stub-zone:stub-addr" -> [...]
	Ranges  []*Range
	Steps   []*Step
	// Unsupported lists constructs found that the replayer cannot honour.
	Unsupported []string
}

// Range is a server's canned answers valid for steps [From, To]. No
// addresses means it answers for every server.
type Range struct {
	From, To int
	Addrs    []netip.Addr
	Entries  []*Entry
}

// Entry is one canned packet with its matching rules.
type Entry struct {
	Match  map[string]bool
	Adjust map[string]bool
	Flags  map[string]bool // QR AA TC RD RA AD CD DO
	Rcode  int
	Msg    *dns.Msg // question and sections
	HasRaw bool
	Line   int
}

// Step is one action of the scenario.
type Step struct {
	N      int
	Kind   string // QUERY, CHECK_ANSWER, TIME_PASSES, ...
	Elapse float64
	Entry  *Entry
	Line   int
}

// Parse reads a scenario.
func Parse(r io.Reader, name string) (*Scenario, error) {
	s := &Scenario{Name: name, Options: map[string][]string{}}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxLineLen)
	lineNo := 0
	section := "" // current clause in the config header
	inConfig := true
	var rng *Range
	var step *Step
	var ent *Entry
	var sect int // 0 question, 1 answer, 2 authority, 3 additional
	entries := 0
	unsupported := func(what string) {
		for _, u := range s.Unsupported {
			if u == what {
				return
			}
		}
		s.Unsupported = append(s.Unsupported, what)
	}
	for sc.Scan() {
		lineNo++
		if lineNo > maxLines {
			return nil, fmt.Errorf("%s: more than %d lines", name, maxLines)
		}
		line := sc.Text()
		if i := strings.IndexByte(line, ';'); i >= 0 && !strings.Contains(line[:i], "\"") {
			line = line[:i]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if inConfig {
			if strings.HasPrefix(f[0], "#") {
				continue
			}
			if f[0] == "CONFIG_END" {
				inConfig = false
				continue
			}
			if strings.HasSuffix(f[0], ":") && len(f) == 1 {
				section = strings.TrimSuffix(f[0], ":")
				continue
			}
			key := strings.TrimSuffix(f[0], ":")
			val := strings.Trim(strings.Join(f[1:], " "), "\"")
			if i := strings.Index(val, "#"); i >= 0 {
				val = strings.TrimSpace(val[:i])
			}
			s.Options[section+":"+key] = append(s.Options[section+":"+key], val)
			continue
		}
		if ent != nil {
			switch f[0] {
			case "ENTRY_END":
				if err := finishEntry(ent); err != nil {
					return nil, fmt.Errorf("%s:%d: %w", name, lineNo, err)
				}
				if step != nil {
					step.Entry = ent
				} else if rng != nil {
					rng.Entries = append(rng.Entries, ent)
				}
				ent = nil
			case "MATCH":
				for _, m := range f[1:] {
					ent.Match[m] = true
				}
			case "ADJUST":
				for _, a := range f[1:] {
					ent.Adjust[a] = true
				}
			case "REPLY":
				for _, fl := range f[1:] {
					if rc, ok := dns.StringToRcode[fl]; ok {
						ent.Rcode = rc
					} else if fl == "NOTIMPL" {
						ent.Rcode = dns.RcodeNotImplemented
					} else {
						ent.Flags[fl] = true
					}
				}
			case "SECTION":
				if len(f) < 2 {
					return nil, fmt.Errorf("%s:%d: SECTION without a name", name, lineNo)
				}
				switch f[1] {
				case "QUESTION":
					sect = 0
				case "ANSWER":
					sect = 1
				case "AUTHORITY":
					sect = 2
				case "ADDITIONAL":
					sect = 3
				default:
					return nil, fmt.Errorf("%s:%d: unknown section %q", name, lineNo, f[1])
				}
			case "RAW", "HEX_ANSWER_BEGIN", "HEX_EDNSDATA_BEGIN", "EXTRA_PACKET", "HEX_EDNS_BEGIN":
				ent.HasRaw = true
				unsupported(f[0])
			case "HEX_ANSWER_END", "HEX_EDNSDATA_END", "HEX_EDNS_END":
			default:
				if ent.HasRaw {
					if _, err := hex.DecodeString(strings.Join(f, "")); err == nil {
						continue
					}
				}
				if sect > 0 && malformedRdata(line) {
					// A *dns.Msg cannot carry rdata of the wrong length:
					// the in-memory network would hand the resolver a
					// repaired record, and the scenario tests its repair.
					ent.HasRaw = true
					unsupported("rdata of the wrong length")
					continue
				}
				if err := addRecord(ent, sect, line); err != nil {
					return nil, fmt.Errorf("%s:%d: %w", name, lineNo, err)
				}
			}
			continue
		}
		switch f[0] {
		case "SCENARIO_BEGIN", "SCENARIO_END":
		case "RANGE_BEGIN":
			if len(f) < 3 {
				return nil, fmt.Errorf("%s:%d: RANGE_BEGIN needs two step numbers", name, lineNo)
			}
			a, err1 := strconv.Atoi(f[1])
			b, err2 := strconv.Atoi(f[2])
			if err1 != nil || err2 != nil {
				return nil, fmt.Errorf("%s:%d: bad range", name, lineNo)
			}
			rng, step = &Range{From: a, To: b}, nil
			s.Ranges = append(s.Ranges, rng)
		case "RANGE_END":
			rng = nil
		case "ADDRESS":
			if rng == nil || len(f) < 2 {
				return nil, fmt.Errorf("%s:%d: ADDRESS outside a range", name, lineNo)
			}
			a, err := netip.ParseAddr(f[1])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %w", name, lineNo, err)
			}
			rng.Addrs = append(rng.Addrs, a)
		case "ENTRY_BEGIN":
			if entries++; entries > maxEntries {
				return nil, fmt.Errorf("%s: more than %d entries", name, maxEntries)
			}
			ent = &Entry{Match: map[string]bool{}, Adjust: map[string]bool{}, Flags: map[string]bool{}, Msg: new(dns.Msg), Line: lineNo}
		case "STEP":
			if len(f) < 3 {
				return nil, fmt.Errorf("%s:%d: STEP needs a number and a kind", name, lineNo)
			}
			n, err := strconv.Atoi(f[1])
			if err != nil {
				return nil, fmt.Errorf("%s:%d: bad step number", name, lineNo)
			}
			step = &Step{N: n, Kind: f[2], Line: lineNo}
			rng = nil
			for i := 3; i+1 < len(f); i++ {
				if f[i] == "ELAPSE" {
					step.Elapse, _ = strconv.ParseFloat(f[i+1], 64)
				}
			}
			switch step.Kind {
			case "QUERY", "CHECK_ANSWER", "TIME_PASSES":
			default:
				unsupported("STEP " + step.Kind)
			}
			if step.Kind == "QUERY" && len(f) > 3 && f[3] == "ADDRESS" {
				unsupported("QUERY ADDRESS")
			}
			s.Steps = append(s.Steps, step)
		default:
			unsupported(f[0])
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if ent != nil {
		return nil, fmt.Errorf("%s: unterminated ENTRY_BEGIN at line %d", name, ent.Line)
	}
	return s, nil
}

func addRecord(e *Entry, sect int, line string) error {
	if sect == 0 {
		f := strings.Fields(line)
		if len(f) < 2 {
			return fmt.Errorf("bad question %q", line)
		}
		q := dns.Question{Name: dns.Fqdn(f[0]), Qclass: dns.ClassINET}
		t := f[len(f)-1]
		qt, ok := dns.StringToType[strings.ToUpper(t)]
		if !ok {
			if strings.HasPrefix(strings.ToUpper(t), "TYPE") {
				n, err := strconv.Atoi(t[4:])
				if err != nil {
					return fmt.Errorf("bad question type %q", t)
				}
				qt = uint16(n)
			} else {
				return fmt.Errorf("bad question type %q", t)
			}
		}
		q.Qtype = qt
		e.Msg.Question = append(e.Msg.Question, q)
		return nil
	}
	rr, err := dns.NewRR("$ORIGIN .\n$TTL 3600\n" + line)
	if err != nil {
		return fmt.Errorf("record %q: %w", line, err)
	}
	if rr == nil {
		return nil
	}
	sortBitmap(rr)
	switch sect {
	case 1:
		e.Msg.Answer = append(e.Msg.Answer, rr)
	case 2:
		e.Msg.Ns = append(e.Msg.Ns, rr)
	case 3:
		e.Msg.Extra = append(e.Msg.Extra, rr)
	}
	return nil
}

func finishEntry(e *Entry) error {
	m := e.Msg
	m.Response = e.Flags["QR"]
	m.Authoritative = e.Flags["AA"]
	m.Truncated = e.Flags["TC"]
	m.RecursionDesired = e.Flags["RD"]
	m.RecursionAvailable = e.Flags["RA"]
	m.AuthenticatedData = e.Flags["AD"]
	m.CheckingDisabled = e.Flags["CD"]
	m.Rcode = e.Rcode
	return nil
}

// sortBitmap puts an NSEC or NSEC3 type list in order, as its wire form
// (RFC 4034 4.1.2 windows and bits) necessarily carries it: scenarios
// write some lists out of order, and the in-memory network hands records
// to the resolver without a trip through the wire.
func sortBitmap(rr dns.RR) {
	switch r := rr.(type) {
	case *dns.NSEC:
		slices.Sort(r.TypeBitMap)
		r.TypeBitMap = slices.Compact(r.TypeBitMap)
	case *dns.NSEC3:
		slices.Sort(r.TypeBitMap)
		r.TypeBitMap = slices.Compact(r.TypeBitMap)
	}
}

// malformedRdata reports whether line is a record in RFC 3597 generic
// form (\# length hex) whose rdata does not survive a trip through
// miekg/dns unchanged: a length its type does not allow, or bytes that
// do not parse as that type.
func malformedRdata(line string) bool {
	f := strings.Fields(line)
	i := slices.Index(f, `\#`)
	if i < 0 || i+1 >= len(f) {
		return false
	}
	want, err := hex.DecodeString(strings.Join(f[i+2:], ""))
	if err != nil {
		return true
	}
	rr, err := dns.NewRR("$ORIGIN .\n$TTL 3600\n" + line)
	if err != nil || rr == nil {
		return true
	}
	buf := make([]byte, 65535)
	end, err := dns.PackRR(rr, buf, 0, nil, false)
	if err != nil {
		return true
	}
	start := end - len(want)
	return start < 2 || int(binary.BigEndian.Uint16(buf[start-2:])) != len(want) || !bytes.Equal(buf[start:end], want)
}
