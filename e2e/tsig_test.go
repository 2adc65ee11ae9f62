package e2e

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/peers"
	"github.com/rootline-dns/rootline/internal/tsig"
)

// TSIG (RFC 8945) against NSD and Knot: error replies compared field by
// field, transfers and NOTIFY signed both ways, and the clients (dig,
// kdig, rootline lookup) on both sides.

const (
	tsigSecret = "pWVKwYnR4wOVYackxwOUVGH295q8v6DTGS7W0hXc6g8="
	tsigWrong  = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="
	tsigName   = "xfr-key"
)

var tsigKey = &peers.TSIGKey{Name: tsigName, Algorithm: "hmac-sha256", Secret: tsigSecret}

// tsigFields is what a reply to a signed query says about the signature.
type tsigFields map[string]string

// tsigQuery sends a query signed by miekg/dns (an implementation
// independent of ours) with key name, algorithm, secret, fudge and time
// as given, over UDP, and reads the reply's TSIG fields.
func tsigQuery(t *testing.T, addr netip.AddrPort, name, alg, secret string, fudge uint16, at time.Time) tsigFields {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion("www."+xfrOrigin, dns.TypeA)
	m.Id = 0x4242
	m.SetEdns0(1232, false)
	m.SetTsig(name+".", alg, fudge, at.Unix())
	b, _, err := dns.TsigGenerate(m, secret, "", false)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 65535)
	n, err := c.Read(buf)
	if err != nil {
		t.Fatalf("%s: %v", addr, err)
	}
	r := buf[:n]
	now := uint64(time.Now().Unix())
	f := tsigFields{"rcode": dns.RcodeToString[int(r[3]&0xf)], "questions": fmt.Sprint(binary.BigEndian.Uint16(r[4:]))}
	rec, ok, err := tsig.Find(r)
	if !ok || err != nil {
		f["tsig"] = fmt.Sprintf("none (%v)", err)
		return f
	}
	f["tsig error"] = dns.RcodeToString[int(rec.Error)]
	f["MAC"] = "empty"
	if len(rec.MAC) > 0 {
		f["MAC"] = "signed"
	}
	switch {
	case rec.TimeSigned == uint64(at.Unix()) && at.Unix() != int64(now):
		f["time signed"] = "the query's"
	case rec.TimeSigned+5 >= now && rec.TimeSigned <= now+5:
		f["time signed"] = "now"
	default:
		f["time signed"] = fmt.Sprint(rec.TimeSigned)
	}
	f["fudge"] = fmt.Sprint(rec.Fudge)
	f["other data"] = fmt.Sprint(len(rec.Other), " bytes")
	if len(rec.Other) == 6 {
		t := uint64(rec.Other[0])<<40 | uint64(rec.Other[1])<<32 | uint64(binary.BigEndian.Uint32(rec.Other[2:]))
		if t+5 >= now && t <= now+5 {
			f["other data"] = "6 bytes: now"
		}
	}
	f["original ID"] = fmt.Sprint(rec.OrigID == 0x4242)
	f["key"], f["algorithm"] = rec.Name, rec.Algorithm
	return f
}

// TestTSIGErrorsLikeNSD sends the same signed queries to NSD, Knot and
// rootline and compares what their replies say about the signature: the
// rcode, the TSIG error, whether the reply's TSIG is signed or has an
// empty MAC (RFC 8945 5.3.2), its time, fudge and other data. Rootline
// answers as NSD does, except where NSD departs from RFC 8945 and Knot
// does not; those fields are compared with Knot and NSD's answer is
// logged:
//   - BADTIME is signed (RFC 8945 5.2.3 SHOULD; NSD 4.6 sends it unsigned);
//   - a known key name with another algorithm is BADKEY (5.2.1; NSD 4.6
//     verifies it with the other algorithm and answers NOERROR);
//   - the question is echoed (NSD leaves it out, Knot keeps it: clients
//     that match replies on the question, ours included, then see the
//     error).
func TestTSIGErrorsLikeNSD(t *testing.T) {
	bin := rootlineBin(t)
	dir := t.TempDir()
	file := filepath.Join(dir, "repl.zone")
	if err := os.WriteFile(file, []byte(xfrZone(1)), 0o644); err != nil {
		t.Fatal(err)
	}
	zs := []peers.XfrZone{{Zone: peers.Zone{Origin: xfrOrigin, Text: xfrZone(1)}, Key: tsigKey}}
	nsd := peers.StartNSDXfr(t, []netip.AddrPort{freeAddr(t)}, zs)
	knot := peers.StartKnotXfr(t, []netip.AddrPort{freeAddr(t)}, zs)
	rlAddr := freeAddr(t)
	peers.StartProcess(t, "rootline", dir, []netip.AddrPort{rlAddr}, []string{xfrOrigin}, bin,
		"auth", "--listen", rlAddr.String(), "--zone", xfrOrigin+"="+file, "--key", "hmac-sha256:"+tsigName+":"+tsigSecret)

	now := time.Now()
	const fudge = 120 // not the default: shows whose fudge a reply carries
	tests := []struct {
		name                 string
		key, alg, secret     string
		at                   time.Time
		knotFields           []string // compared with Knot's reply, not NSD's
		wantRcode, wantError string
	}{
		{"good", tsigName, dns.HmacSHA256, tsigSecret, now, nil, "NOERROR", "NOERROR"},
		{"unknown key", "nobody", dns.HmacSHA256, tsigSecret, now, []string{"questions"}, "NOTAUTH", "BADKEY"},
		{"wrong secret", tsigName, dns.HmacSHA256, tsigWrong, now, []string{"questions"}, "NOTAUTH", "BADSIG"},
		{"time ahead", tsigName, dns.HmacSHA256, tsigSecret, now.Add(1000 * time.Second), []string{"questions", "MAC"}, "NOTAUTH", "BADTIME"},
		{"time behind", tsigName, dns.HmacSHA256, tsigSecret, now.Add(-1000 * time.Second), []string{"questions", "MAC"}, "NOTAUTH", "BADTIME"},
		// Knot's BADKEY carries its own fudge, NSD's the query's (see
		// "unknown key"): NSD has no BADKEY here to compare the fudge
		// with, and we keep the fudge of our other BADKEY replies.
		{"other algorithm", tsigName, dns.HmacSHA512, tsigSecret, now,
			[]string{"rcode", "questions", "tsig error", "MAC", "time signed", "other data", "algorithm"}, "NOTAUTH", "BADKEY"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]tsigFields{}
			for _, s := range []*peers.Server{nsd, knot, {Name: "rootline", Addrs: []netip.AddrPort{rlAddr}}} {
				got[s.Name] = tsigQuery(t, s.Addrs[0], tc.key, tc.alg, tc.secret, fudge, tc.at)
			}
			rl := got["rootline"]
			if rl["rcode"] != tc.wantRcode || rl["tsig error"] != tc.wantError {
				t.Errorf("rootline: %s / %s, want %s / %s", rl["rcode"], rl["tsig error"], tc.wantRcode, tc.wantError)
			}
			for field, v := range rl {
				if tc.name == "other algorithm" && field == "fudge" {
					continue
				}
				ref := "nsd"
				for _, f := range tc.knotFields {
					if f == field {
						ref = "knot"
					}
				}
				if want := got[ref][field]; v != want {
					t.Errorf("%s: rootline %q, %s %q", field, v, ref, want)
				}
				if other := map[string]string{"nsd": "knot", "knot": "nsd"}[ref]; got[other][field] != v {
					t.Logf("%s: %s answers %q (rootline and %s %q)", field, other, got[other][field], ref, v)
				}
			}
		})
	}
}
