package e2e

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
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

// Rootline as a TSIG primary: NSD and Knot transfer from us with the key
// only (allow-transfer key:NAME names no address), take our signed
// NOTIFY (their allow-notify requires the key) and follow two reloads by
// IXFR; dig -y and kdig -y transfer and query; unsigned, wrongly keyed
// and skewed requests are refused as they should be.
func TestTSIGRootlinePrimary(t *testing.T) {
	bin := rootlineBin(t)
	dig := peers.Need(t, "dig")
	kdig := peers.Need(t, "kdig")
	dir := t.TempDir()
	file := filepath.Join(dir, "repl.zone")
	if err := os.WriteFile(file, []byte(xfrZone(1)), 0o644); err != nil {
		t.Fatal(err)
	}
	rlAddr, nsdAddr, knotAddr := freeAddr(t), freeAddr(t), freeAddr(t)
	keyArg := "hmac-sha256:" + tsigName + ":" + tsigSecret
	rl := peers.StartProcess(t, "rootline", dir, []netip.AddrPort{rlAddr}, []string{xfrOrigin}, bin,
		"auth", "--listen", rlAddr.String(), "--zone", xfrOrigin+"="+file, "--key", keyArg,
		"--allow-transfer", "key:"+tsigName,
		"--notify", nsdAddr.String()+",key:"+tsigName, "--notify", knotAddr.String()+",key:"+tsigName)
	secondary := []peers.XfrZone{{Zone: peers.Zone{Origin: xfrOrigin}, Primary: rlAddr, Key: tsigKey}}
	nsd := peers.StartNSDXfr(t, []netip.AddrPort{nsdAddr}, secondary)
	knot := peers.StartKnotXfr(t, []netip.AddrPort{knotAddr}, secondary)
	port, at := fmt.Sprint(rlAddr.Port()), "@"+rlAddr.Addr().String()

	check := func(serial uint32) {
		t.Helper()
		want := textSet(t, xfrZone(serial))
		rrs, out := clientXfr(t, dig, "-p", port, at, xfrOrigin, "AXFR", "-y", keyArg)
		sameSet(t, "dig -y AXFR", want, zoneSet(t, withoutTSIG(rrs)))
		if strings.Contains(out, "Couldn't verify") || !strings.Contains(out, "messages ") || strings.Contains(out, "messages 1,") {
			t.Errorf("dig -y AXFR: want several verified messages:\n%s", out[max(0, len(out)-400):])
		}
		rrs, out = clientXfr(t, kdig, "-p", port, at, xfrOrigin, "AXFR", "-y", keyArg)
		sameSet(t, "kdig -y AXFR", want, zoneSet(t, withoutTSIG(rrs)))
		if strings.Contains(out, "WARNING") || strings.Contains(out, "failed") {
			t.Errorf("kdig -y AXFR:\n%s", out[max(0, len(out)-400):])
		}
		sameSet(t, "NSD (our secondary) AXFR", want, zoneSet(t, axfrSigned(t, nsdAddr)))
		sameSet(t, "Knot (our secondary) AXFR", want, zoneSet(t, axfrSigned(t, knotAddr)))
		sameAnswers(t, rlAddr, nsdAddr, knotAddr)
	}
	check(1)

	// Refusals: no key (allow-transfer names none), wrong secret, an
	// unknown key name, and a query signed an hour off.
	_, out := clientXfr(t, dig, "-p", port, at, xfrOrigin, "AXFR")
	if !strings.Contains(out, "Transfer failed") {
		t.Errorf("unsigned AXFR was not refused:\n%s", out)
	}
	for _, tc := range []struct{ key, want string }{
		{"hmac-sha256:" + tsigName + ":" + tsigWrong, "BADSIG"},
		{"hmac-sha256:nobody:" + tsigSecret, "BADKEY"},
	} {
		b, _ := exec.Command(kdig, "-p", port, at, xfrOrigin, "AXFR", "-y", tc.key).CombinedOutput()
		if out := string(b); !strings.Contains(out, tc.want) || strings.Contains(out, "IN\tNS") {
			t.Errorf("kdig AXFR -y %s: want %s, no data:\n%s", tc.key, tc.want, out)
		}
	}
	k, _ := tsig.NewKey(tsigName, "", tsigSecret)
	m := new(dns.Msg)
	m.SetAxfr(xfrOrigin)
	c := &tsig.Client{Key: &k, TCP: true, Now: func() time.Time { return time.Now().Add(-time.Hour) }}
	r, err := c.ExchangeReply(t.Context(), rlAddr, m)
	var te *tsig.Error
	if err != nil || r.Msg.Rcode != dns.RcodeNotAuth || !asTSIGError(r.Verify, &te) || te.Code != tsig.BadTime || len(r.Msg.Answer) != 0 {
		t.Errorf("AXFR signed an hour ago: %v %v, want NOTAUTH/BADTIME", r, err)
	}

	for serial := uint32(2); serial <= 3; serial++ {
		if err := os.WriteFile(file, []byte(xfrZone(serial)), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := rl.Signal(syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		waitSerial(t, rl, serial)
		waitSerial(t, nsd, serial) // REFRESH is an hour: only our signed NOTIFY gets them here
		waitSerial(t, knot, serial)
		check(serial)
	}
	log := readLog(t, rl)
	if n := strings.Count(log, "key="+tsigName+". kind=IXFR "); n < 4 {
		t.Errorf("%d signed incremental transfers logged, want 4 (NSD and Knot, two reloads):\n%s", n, rl.LogTail())
	}
	if strings.Contains(log, "notify not acknowledged") {
		t.Errorf("a NOTIFY was refused:\n%s", rl.LogTail())
	}
}

func withoutTSIG(rrs []dns.RR) []dns.RR {
	out := rrs[:0]
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeTSIG {
			out = append(out, rr)
		}
	}
	return out
}

func asTSIGError(err error, te **tsig.Error) bool {
	return errors.As(err, te)
}

// axfrSigned transfers the zone from addr with miekg/dns's client signing
// with the test key (it verifies every signed message).
func axfrSigned(t *testing.T, addr netip.AddrPort) []dns.RR {
	t.Helper()
	tr := &dns.Transfer{DialTimeout: xfrWait, ReadTimeout: xfrWait, TsigSecret: map[string]string{tsigName + ".": tsigSecret}}
	q := new(dns.Msg)
	q.SetAxfr(xfrOrigin)
	q.SetTsig(tsigName+".", dns.HmacSHA256, 300, time.Now().Unix())
	ch, err := tr.In(q, addr.String())
	if err != nil {
		t.Fatalf("signed AXFR from %s: %v", addr, err)
	}
	var rrs []dns.RR
	for env := range ch {
		if env.Error != nil {
			t.Fatalf("signed AXFR from %s: %v", addr, env.Error)
		}
		rrs = append(rrs, env.RR...)
	}
	return rrs
}

// Rootline as a TSIG secondary of NSD and of Knot: the primaries transfer
// only with the key and sign their NOTIFY; we sign our SOA checks and
// transfers (--secondary ORIGIN=ADDR,key:NAME), verify every message,
// and follow a change by NOTIFY. NOTIFY without the key is refused:
// unsigned from a stranger, unsigned from the primary's own address, and
// signed with a wrong secret.
func TestTSIGRootlineSecondary(t *testing.T) {
	bin := rootlineBin(t)
	for _, peer := range []string{"nsd", "knot"} {
		t.Run(peer, func(t *testing.T) {
			rlAddr, pAddr := freeAddr(t), freeAddr(t)
			zs := []peers.XfrZone{{Zone: peers.Zone{Origin: xfrOrigin, Text: xfrZone(1)}, Notify: []netip.AddrPort{rlAddr}, Key: tsigKey}}
			var p *peers.Server
			if peer == "nsd" {
				p = peers.StartNSDXfr(t, []netip.AddrPort{pAddr}, zs)
			} else {
				p = peers.StartKnotXfr(t, []netip.AddrPort{pAddr}, zs)
			}
			rl := peers.StartProcess(t, "rootline", "", []netip.AddrPort{rlAddr}, []string{xfrOrigin}, bin,
				"auth", "--listen", rlAddr.String(), "--key", "hmac-sha256:"+tsigName+":"+tsigSecret,
				"--secondary", xfrOrigin+"="+pAddr.String()+",key:"+tsigName, "--allow-transfer", "127.0.0.1")
			sameSet(t, "after AXFR", zoneSet(t, axfrSigned(t, pAddr)), zoneSet(t, axfr(t, rlAddr)))
			sameAnswers(t, pAddr, rlAddr)

			// NOTIFY refusals, before the change: none of them may make
			// us refresh.
			k, _ := tsig.NewKey(tsigName, "", tsigSecret)
			wrong, _ := tsig.NewKey(tsigName, "", tsigWrong)
			notify := xfrNotify(1)
			if r, err := exchangeFrom(notify, "127.0.0.2", rlAddr); err != nil || r.Rcode != dns.RcodeRefused {
				t.Errorf("unsigned NOTIFY from a stranger: %v %v, want REFUSED", r, err)
			}
			if r, err := exchangeFrom(notify, "127.0.0.1", rlAddr); err != nil || r.Rcode != dns.RcodeRefused {
				t.Errorf("unsigned NOTIFY from the primary's address: %v %v, want REFUSED", r, err)
			}
			r, err := (&tsig.Client{Key: &wrong}).ExchangeReply(t.Context(), rlAddr, notify)
			var te *tsig.Error
			if err != nil || r.Msg.Rcode != dns.RcodeNotAuth || !asTSIGError(r.Verify, &te) || te.Code != tsig.BadSig {
				t.Errorf("NOTIFY with a wrong secret: %v %v, want NOTAUTH/BADSIG", r, err)
			}
			// Signed with the key from the primary's address: accepted
			// (NOERROR, signed reply) even before anything changed.
			if r, err := (&tsig.Client{Key: &k}).Exchange(t.Context(), rlAddr, notify); err != nil || r.Rcode != dns.RcodeSuccess {
				t.Errorf("signed NOTIFY: %v %v", r, err)
			}

			if err := os.WriteFile(p.ZoneFile(xfrOrigin), []byte(xfrZone(2)), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := p.Signal(syscall.SIGHUP); err != nil {
				t.Fatal(err)
			}
			waitSerial(t, p, 2)
			waitSerial(t, rl, 2) // REFRESH is an hour: only the primary's signed NOTIFY gets us here
			sameSet(t, "after NOTIFY", zoneSet(t, axfrSigned(t, pAddr)), zoneSet(t, axfr(t, rlAddr)))
			sameSet(t, "after NOTIFY (zone text)", textSet(t, xfrZone(2)), zoneSet(t, axfr(t, rlAddr)))
			log := readLog(t, rl)
			if !strings.Contains(log, "serial=2") || strings.Contains(log, "failed") {
				t.Errorf("transfer of serial 2:\n%s", rl.LogTail())
			}
		})
	}
}

// xfrNotify is a NOTIFY for the test zone at serial.
func xfrNotify(serial uint32) *dns.Msg {
	m := new(dns.Msg)
	m.SetNotify(xfrOrigin)
	m.Answer = []dns.RR{&dns.SOA{Hdr: dns.RR_Header{Name: xfrOrigin, Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 300},
		Ns: "ns1." + xfrOrigin, Mbox: "hostmaster." + xfrOrigin, Serial: serial, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: 60}}
	return m
}
