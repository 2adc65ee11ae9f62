package auth

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/server"
	"github.com/rootline-dns/rootline/internal/signer"
	"github.com/rootline-dns/rootline/internal/wire"
	"github.com/rootline-dns/rootline/internal/zone"
)

// odd.test exercises what the direct path must get byte for byte: TXT
// escapes, SOA names that compress into the question only in part, escaped
// owner names, names deep below the apex, a child zone served beside its
// parent, an empty non-terminal.
const oddZone = `$ORIGIN odd.test.
$TTL 600
@          IN SOA  ns.elsewhere.example. Host\.Master.odd.test. 7 3600 600 86400 120
@          IN NS   ns.elsewhere.example.
@          IN TXT  "v=spf1 -all"
esc        IN TXT  "quote\"d" "back\\slash" "\000\255\032" "" "semi;colon"
esc        IN A    192.0.2.1
a\.dot     IN A    192.0.2.2
\200bin    IN AAAA 2001:db8::2
x.y.z.deep IN A    192.0.2.3
x.y.z.deep IN AAAA 2001:db8::3
only.ent.e IN TXT  "t"
mapped     IN A    192.0.2.4
child      IN NS   ns.child
ns.child   IN A    192.0.2.53
`

const childZone = `$ORIGIN child.odd.test.
$TTL 60
@      IN SOA ns.child.odd.test. hostmaster.child.odd.test. 1 3600 600 86400 30
@      IN NS  ns
ns     IN A   192.0.2.53
www    IN A   192.0.2.54
www    IN TXT "child"
`

const rootZone = `$ORIGIN .
$TTL 86400
@          IN SOA a.root-servers.test. nstld.example. 2026120301 1800 900 604800 86400
@          IN NS  a.root-servers.test.
@          IN TXT "root"
test       IN NS  a.root-servers.test.
a.root-servers.test. IN A 192.0.2.250
`

func directZones(t *testing.T) []*zone.Zone {
	t.Helper()
	zs := []*zone.Zone{
		exampleZone(t),
		loadZone(t, "odd.test.", oddZone),
		loadZone(t, "child.odd.test.", childZone),
		loadZone(t, ".", rootZone),
	}
	// A signed zone: without DO its answers may go direct, with DO never.
	var keys []*dnssec.Key
	now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for _, ksk := range []bool{true, false} {
		k, err := dnssec.Generate("signed.test.", dns.ECDSAP256SHA256, ksk, now)
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	signedText := strings.ReplaceAll(strings.ReplaceAll(oddZone, "odd.test.", "signed.test."), "child      IN NS   ns.child\n", "")
	v, _, err := signer.Sign(loadZone(t, "signed.test.", signedText), keys, signer.Policy{Validity: 30 * 24 * time.Hour, Refresh: 7 * 24 * time.Hour}, nil, now)
	if err != nil {
		t.Fatal(err)
	}
	return append(zs, v.Zone)
}

// plainQuery packs and peeks a query for name and qtype, with EDNS (and
// DO) when asked.
func plainQuery(t *testing.T, name string, qtype uint16, edns, do bool) ([]byte, wire.Query) {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	if edns {
		m.SetEdns0(1232, do)
	}
	w, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	var q wire.Query
	if err := q.Read(w); err != nil {
		t.Fatal(err)
	}
	return w, q
}

// randomCase spells name with letters in random case (RFC 4343: the reply
// must carry the question as asked).
func randomCase(r *rand.Rand, name string) string {
	b := []byte(name)
	for i, c := range b {
		if 'a' <= c && c <= 'z' && r.IntN(2) == 0 {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// The direct path must write exactly the bytes the full path packs, for
// every query it takes; and it must take the plain positive, NODATA and
// NXDOMAIN answers, or the memory it saves is not saved.
func TestDirectMatchesFull(t *testing.T) {
	zs := directZones(t)
	h := NewHandler(nil)
	h.SetZones(zs)
	st := h.state.Load()
	r := rand.New(rand.NewPCG(1, 2))

	var names []string
	for _, z := range zs {
		for _, n := range z.Names() {
			names = append(names, n)
			if n != "." {
				names = append(names, "nx-"+fmt.Sprint(r.IntN(1000))+"."+n, "a.b."+n)
			}
		}
	}
	names = append(names, "outside.invalid.", "no.such.tld.")
	types := []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeTXT, dns.TypeMX, dns.TypeNS, dns.TypeSOA, dns.TypeCNAME,
		dns.TypeSRV, dns.TypeDS, dns.TypeANY, dns.TypeRRSIG, dns.TypeNSEC, dns.TypeDNSKEY, dns.TypeHTTPS, 65400}

	counts := map[string]int{}
	out1 := make([]byte, 0, wire.MaxMsgSize)
	out2 := make([]byte, 0, wire.MaxMsgSize)
	for _, name := range names {
		for _, qt := range types {
			for variant := 0; variant < 8; variant++ {
				m := new(dns.Msg)
				m.SetQuestion(randomCase(r, name), qt)
				m.Id = uint16(r.Uint32())
				m.RecursionDesired = variant&1 != 0
				m.CheckingDisabled = variant&2 != 0
				if variant&4 != 0 {
					m.SetEdns0(uint16(512+r.IntN(4000)), r.IntN(2) == 0)
				}
				w, err := m.Pack()
				if err != nil {
					t.Fatalf("%s: %v", m.Question[0].Name, err)
				}
				var q wire.Query
				if err := q.Read(w); err != nil || !q.Plain(w) {
					t.Fatalf("%s %d: not a plain query: %v", name, qt, err)
				}
				proto := server.UDP
				if r.IntN(4) == 0 {
					proto = server.TCP
				}
				got, ok := st.direct(w, &q, proto, out1)
				if !ok {
					counts["full"]++
					continue
				}
				req := &server.Request{Wire: w, Remote: netip.MustParseAddrPort("127.0.0.1:5353"), Proto: proto}
				want := h.serveSlow(context.Background(), st, req, &q, out2, nil)
				if !bytes.Equal(got, want) {
					var gm, wm dns.Msg
					gm.Unpack(got)  //nolint:errcheck // shown as far as it goes
					wm.Unpack(want) //nolint:errcheck
					t.Fatalf("%s %s (variant %d, %v):\ndirect %x\n%v\nfull   %x\n%v", m.Question[0].Name, dns.TypeToString[qt], variant, proto, got, &gm, want, &wm)
				}
				var rm dns.Msg
				if err := rm.Unpack(got); err != nil {
					t.Fatalf("direct reply does not unpack: %v", err)
				}
				switch {
				case rm.Rcode == dns.RcodeNameError:
					counts["nxdomain"]++
				case len(rm.Answer) == 0:
					counts["nodata"]++
				default:
					counts["answer"]++
				}
			}
		}
	}
	t.Logf("%v", counts)
	for _, k := range []string{"answer", "nodata", "nxdomain", "full"} {
		if counts[k] < 50 {
			t.Errorf("only %d %s replies: the direct path takes too little (or too much)", counts[k], k)
		}
	}
}

// A signed zone's root corpus: every TLD's names and some that do not
// exist, without DO (direct) and with DO (full path only).
func TestDirectRootCorpus(t *testing.T) {
	const path = "../../../shared/corpora/zone/root-zone/root.zone.2023051100"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("SKIPPED LOUDLY: no root zone corpus at %s (../shared is absent outside CI): %v", path, err)
	}
	z := loadZone(t, ".", string(b))
	h := NewHandler(nil)
	h.SetZones([]*zone.Zone{z})
	st := h.state.Load()
	out1 := make([]byte, 0, wire.MaxMsgSize)
	out2 := make([]byte, 0, wire.MaxMsgSize)
	direct := 0
	for i, n := range z.Names() {
		if i%7 != 0 {
			continue
		}
		qnames := []string{n}
		if n != "." {
			qnames = append(qnames, "nx."+n, "nonexistent-"+n)
		}
		for _, qname := range qnames {
			for _, qt := range []uint16{dns.TypeA, dns.TypeTXT, dns.TypeNS, dns.TypeSOA} {
				w, q := plainQuery(t, qname, qt, true, i%2 == 0)
				got, ok := st.direct(w, &q, server.UDP, out1)
				if !ok {
					continue
				}
				if q.DO() {
					t.Fatalf("%s: DO query in a signed zone answered directly", qname)
				}
				direct++
				req := &server.Request{Wire: w, Proto: server.UDP}
				if want := h.serveSlow(context.Background(), st, req, &q, out2, nil); !bytes.Equal(got, want) {
					t.Fatalf("%s %d: direct %x, full %x", qname, qt, got, want)
				}
			}
		}
	}
	if direct == 0 {
		t.Fatal("nothing in the root zone was answered directly")
	}
}

func BenchmarkServeDirect(b *testing.B) {
	h := newTestHandler(b)
	for _, tc := range []struct {
		name  string
		qtype uint16
	}{{"www.example.test.", dns.TypeA}, {"nx.example.test.", dns.TypeA}} {
		b.Run(tc.name, func(b *testing.B) {
			w, _ := newQuery(tc.name, tc.qtype, true).Pack()
			req := &server.Request{Wire: w, Proto: server.UDP}
			out := make([]byte, 0, wire.MaxMsgSize)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				*req = server.Request{Wire: w, Proto: server.UDP} // a new packet, as a listener does
				if h.ServeDNS(ctx, req, out) == nil {
					b.Fatal("no reply")
				}
			}
		})
	}
}

// Which answers go direct, and which are the full path's.
func TestDirectTakes(t *testing.T) {
	h := NewHandler(nil)
	h.SetZones(directZones(t))
	st := h.state.Load()
	out := make([]byte, 0, wire.MaxMsgSize)
	for _, tc := range []struct {
		name  string
		qtype uint16
		do    bool
		want  bool
	}{
		{"www.example.test.", dns.TypeA, false, true},
		{"example.test.", dns.TypeMX, false, true},         // with the exchange's address
		{"example.test.", dns.TypeNS, false, true},         // with in-zone name server addresses
		{"alias.example.test.", dns.TypeAAAA, false, true}, // CNAME chased in the zone
		{"chain1.example.test.", dns.TypeA, false, true},
		{"loop1.example.test.", dns.TypeA, false, true},
		{"outside.example.test.", dns.TypeA, false, true},
		{"_sip._tcp.example.test.", dns.TypeSRV, false, true},
		{"nx.example.test.", dns.TypeA, false, true},
		{"ent.example.test.", dns.TypeA, false, true}, // empty non-terminal: NODATA
		{"www.example.test.", dns.TypeMX, false, true},
		{"esc.odd.test.", dns.TypeTXT, false, true},
		{"www.child.odd.test.", dns.TypeTXT, false, true},
		{"esc.signed.test.", dns.TypeA, false, true},
		{"esc.signed.test.", dns.TypeA, true, false},  // DNSSEC records wanted
		{"sub.example.test.", dns.TypeA, false, true}, // referral, with glue
		{"a.b.sub.example.test.", dns.TypeMX, false, true},
		{"noglue.example.test.", dns.TypeA, false, true},
		{"sub.example.test.", dns.TypeDS, false, false}, // the parent side
		{"x.dn.example.test.", dns.TypeA, false, false}, // DNAME
		{"a.wild.example.test.", dns.TypeA, false, false},
		{"www.example.test.", dns.TypeANY, false, false},
		{"example.test.", dns.TypeSOA, false, true},
		{"big.example.test.", dns.TypeTXT, false, false}, // over 512 bytes without EDNS: truncated
	} {
		w, q := plainQuery(t, tc.name, tc.qtype, tc.do, tc.do)
		if _, got := st.direct(w, &q, server.UDP, out); got != tc.want {
			t.Errorf("%s %s DO=%v: direct %v, want %v", tc.name, dns.TypeToString[tc.qtype], tc.do, got, tc.want)
		}
	}
}

// BenchmarkServeBigZone answers random names of a 100k-name zone, as the
// bench's auth run does: with a zone far larger than the CPU caches, what
// counts is how many memory lines an answer touches.
func BenchmarkServeBigZone(b *testing.B) {
	var sb strings.Builder
	sb.WriteString("$ORIGIN big.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 60\n@ NS ns\nns A 192.0.2.1\n")
	const names = 100000
	for i := 0; i < names; i++ {
		fmt.Fprintf(&sb, "host%d A 10.%d.%d.%d\n", i, i>>16&255, i>>8&255, i&255)
		if i%2 == 0 {
			fmt.Fprintf(&sb, "host%d AAAA 2001:db8::%x:%x\n", i, i>>16, i&0xffff)
		}
	}
	h := NewHandler(nil)
	h.SetZones([]*zone.Zone{loadZone(b, "big.test.", sb.String())})
	r := rand.New(rand.NewPCG(3, 4))
	qs := make([][]byte, 1<<16)
	for i := range qs {
		m := new(dns.Msg)
		name := fmt.Sprintf("host%d.big.test.", r.IntN(names))
		if i%10 == 0 {
			name = fmt.Sprintf("nx%d.big.test.", r.IntN(names))
		}
		m.SetQuestion(name, []uint16{dns.TypeA, dns.TypeAAAA}[i%2])
		qs[i], _ = m.Pack()
	}
	out := make([]byte, 0, wire.MaxMsgSize)
	ctx := context.Background()
	req := &server.Request{}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		*req = server.Request{Wire: qs[i&(len(qs)-1)], Proto: server.UDP}
		i++
		if h.ServeDNS(ctx, req, out) == nil {
			b.Fatal("no reply")
		}
	}
}

// FuzzDirectMatchesFull: for any query the direct path takes, its reply
// is the full path's, byte for byte.
func FuzzDirectMatchesFull(f *testing.F) {
	for _, name := range []string{"www.example.test.", "alias.example.test.", "nx.odd.test.", "esc.odd.test.", "example.test.", "."} {
		for _, qt := range []uint16{dns.TypeA, dns.TypeMX, dns.TypeTXT, dns.TypeNS} {
			m := new(dns.Msg)
			m.SetQuestion(name, qt)
			m.SetEdns0(1232, false)
			w, _ := m.Pack()
			f.Add(w)
		}
	}
	var h *Handler
	f.Fuzz(func(t *testing.T, w []byte) {
		if h == nil {
			h = NewHandler(nil)
			h.SetZones(directZones(t))
		}
		st := h.state.Load()
		var q wire.Query
		if q.Read(w) != nil || !q.Plain(w) {
			return
		}
		got, ok := st.direct(w, &q, server.UDP, make([]byte, 0, wire.MaxMsgSize))
		if !ok {
			return
		}
		req := &server.Request{Wire: w, Proto: server.UDP}
		if want := h.serveSlow(context.Background(), st, req, &q, make([]byte, 0, wire.MaxMsgSize), nil); !bytes.Equal(got, want) {
			t.Fatalf("direct %x\nfull   %x", got, want)
		}
	})
}
