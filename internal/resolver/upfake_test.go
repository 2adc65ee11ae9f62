package resolver

import (
	"context"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// upFake is a scripted authoritative server on a real loopback UDP socket:
// answer builds each reply (none: nil) and says how long to hold it back.
// It counts the queries it receives. Replies are sent from goroutines, so
// a delayed one does not hold up the next query.
type upFake struct {
	addr netip.AddrPort
	conn *net.UDPConn
	mu   sync.Mutex
	got  []*dns.Msg
	wg   sync.WaitGroup
}

func startUpFake(t testing.TB, addr string, answer func(q *dns.Msg) (*dns.Msg, time.Duration)) *upFake {
	return startUpFakeMulti(t, addr, func(q *dns.Msg) []delayed {
		r, d := answer(q)
		if r == nil {
			return nil
		}
		return []delayed{{r, d}}
	})
}

// delayed is one reply of an upFake and how long it is held back.
type delayed struct {
	m     *dns.Msg
	delay time.Duration
}

// startUpFakeMulti is startUpFake for servers that send several replies
// to one query (a forger racing the server).
func startUpFakeMulti(t testing.TB, addr string, answer func(q *dns.Msg) []delayed) *upFake {
	t.Helper()
	ap := netip.MustParseAddrPort(addr)
	conn, err := net.ListenUDP("udp", net.UDPAddrFromAddrPort(ap))
	if err != nil {
		t.Skipf("cannot bind %s: %v", ap, err)
	}
	f := &upFake{addr: conn.LocalAddr().(*net.UDPAddr).AddrPort(), conn: conn}
	done := make(chan struct{})
	t.Cleanup(func() {
		close(done)
		conn.Close()
		f.wg.Wait()
	})
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		buf := make([]byte, 65535)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			q := new(dns.Msg)
			if q.Unpack(buf[:n]) != nil || len(q.Question) != 1 {
				continue
			}
			f.mu.Lock()
			f.got = append(f.got, q)
			f.mu.Unlock()
			for _, d := range answer(q) {
				b, err := d.m.Pack()
				if err != nil {
					continue
				}
				f.wg.Add(1)
				go func() {
					defer f.wg.Done()
					select {
					case <-time.After(d.delay):
					case <-done:
						return
					}
					_, _ = conn.WriteToUDPAddrPort(b, from)
				}()
			}
		}
	}()
	return f
}

func (f *upFake) queries() []*dns.Msg {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*dns.Msg(nil), f.got...)
}

// authReply is an authoritative reply to q with rrs (zone-file lines) in
// the answer section, the authority (ns) and additional (extra) sections;
// EDNS is echoed when q had it.
func authReply(t testing.TB, q *dns.Msg, aa bool, answer, ns, extra []string) *dns.Msg {
	r := new(dns.Msg)
	r.SetReply(q)
	r.Authoritative = aa
	for _, sec := range []struct {
		lines []string
		to    *[]dns.RR
	}{{answer, &r.Answer}, {ns, &r.Ns}, {extra, &r.Extra}} {
		for _, l := range sec.lines {
			rr, err := dns.NewRR(l)
			if err != nil {
				t.Errorf("%s: %v", l, err)
				continue
			}
			*sec.to = append(*sec.to, rr)
		}
	}
	if o := q.IsEdns0(); o != nil {
		r.SetEdns0(1232, o.Do())
	}
	return r
}

// rootFake answers as a root server whose only delegation is tld to the
// server ns.<tld> at nsAddr: the root NS set for priming, referrals for
// names under tld, NXDOMAIN otherwise.
func rootFake(t testing.TB, addr, tld, nsAddr string) *upFake {
	const soa = ". 300 IN SOA a.root-servers.test. h. 1 3600 600 86400 300"
	self := netip.MustParseAddrPort(addr).Addr().String()
	return startUpFake(t, addr, func(q *dns.Msg) (*dns.Msg, time.Duration) {
		name := dns.CanonicalName(q.Question[0].Name)
		switch {
		case name == "." && q.Question[0].Qtype == dns.TypeNS:
			return authReply(t, q, true, []string{". 300 IN NS a.root-servers.test."}, nil, []string{"a.root-servers.test. 300 IN A " + self}), 0
		case dns.IsSubDomain(tld, name):
			return authReply(t, q, false, nil, []string{tld + " 300 IN NS ns." + tld}, []string{"ns." + tld + " 300 IN A " + nsAddr}), 0
		case name == ".":
			return authReply(t, q, true, nil, []string{soa}, nil), 0
		}
		r := authReply(t, q, true, nil, []string{soa}, nil)
		r.Rcode = dns.RcodeNameError
		return r, 0
	})
}

// leafAnswer is an authoritative answer for zone: www A 192.0.2.1, ns.zone
// A nsAddr, NODATA (with the SOA) for anything else in the zone.
func leafAnswer(t testing.TB, q *dns.Msg, zone, nsAddr string) *dns.Msg {
	name, qt := dns.CanonicalName(q.Question[0].Name), q.Question[0].Qtype
	soa := zone + " 300 IN SOA ns." + zone + " h. 1 3600 600 86400 300"
	switch {
	case name == "www."+zone && qt == dns.TypeA:
		return authReply(t, q, true, []string{name + " 300 IN A 192.0.2.1"}, nil, nil)
	case name == "ns."+zone && qt == dns.TypeA:
		return authReply(t, q, true, []string{name + " 300 IN A " + nsAddr}, nil, nil)
	case name == zone && qt == dns.TypeNS:
		return authReply(t, q, true, []string{zone + " 300 IN NS ns." + zone}, nil, nil)
	}
	return authReply(t, q, true, nil, []string{soa}, nil)
}

// resolveOnce asks r for name/qtype with a generous deadline.
func resolveOnce(t testing.TB, r *Resolver, name string, qtype uint16) (*Response, time.Duration, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	resp, err := r.Resolve(ctx, dns.Question{Name: name, Qtype: qtype, Qclass: dns.ClassINET})
	return resp, time.Since(start), err
}
