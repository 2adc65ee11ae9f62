package resolver_test

import (
	"context"
	"fmt"
	"io/fs"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/resolver"
	"github.com/rootline-dns/rootline/internal/validate"
	"github.com/rootline-dns/rootline/lab"
)

// wildcardAnswer checks a positive answer to name expanded from the lab's
// *.users.example.com: the record owned by name, its RRSIG owned by name
// with fewer labels than it (RFC 4035 5.3.2), and in the proof the NSEC
// covering name with its RRSIG (RFC 4035 3.1.3.3); when synthesised,
// within the TTL bound of the NSEC (the lab's SOA MINIMUM, 300).
func wildcardAnswer(t *testing.T, resp *resolver.Response, name string, qtype uint16, synthesised bool) {
	t.Helper()
	if len(resp.Answer) != 1 || resp.Answer[0].Header().Rrtype != qtype || !dns.IsSubDomain(name, resp.Answer[0].Header().Name) ||
		!dns.IsSubDomain(resp.Answer[0].Header().Name, name) {
		t.Fatalf("%s: answer %v, want one %s record owned by the name", name, resp.Answer, dns.TypeToString[qtype])
	}
	if ttl := resp.Answer[0].Header().Ttl; synthesised && (ttl == 0 || ttl > 300) {
		t.Errorf("%s: TTL %d, want 1..300 (the NSEC's)", name, ttl)
	}
	sigs := 0
	for _, rr := range resp.Sigs {
		sig, ok := rr.(*dns.RRSIG)
		if !ok || sig.TypeCovered != qtype {
			continue
		}
		sigs++
		if !dns.IsSubDomain(name, sig.Hdr.Name) || int(sig.Labels) >= dns.CountLabel(name) {
			t.Errorf("%s: RRSIG %v: want owner %s and labels below its %d", name, sig, name, dns.CountLabel(name))
		}
	}
	if sigs == 0 {
		t.Errorf("%s: no RRSIG over the answer: %v", name, resp.Sigs)
	}
	var nsec *dns.NSEC
	nsecSigs := 0
	for _, rr := range resp.Proof {
		switch r := rr.(type) {
		case *dns.NSEC:
			if dnssec.Covers(r, name) {
				nsec = r
			}
		case *dns.RRSIG:
			if r.TypeCovered == dns.TypeNSEC {
				nsecSigs++
			}
		}
	}
	if nsec == nil || nsecSigs == 0 {
		t.Errorf("%s: proof %v, want the NSEC covering the name and its RRSIG", name, resp.Proof)
	}
}

// TestAggressiveWildcard: after one validated answer expanded from the
// wildcard *.users.example.com, other names under it are answered from the
// cache, secure, with no upstream query (RFC 8198 5.3); a type the
// wildcard's RRset was not learned for still goes upstream once; names
// that exist, and so are not covered by the NSEC, go upstream; the answer
// dies with the NSEC's TTL.
func TestAggressiveWildcard(t *testing.T) {
	a := newAggrLab(t, nil)
	first := a.want(t, "u1.users.example.com.", dns.TypeA, dns.RcodeSuccess, cache.Secure, true)
	wildcardAnswer(t, first, "u1.users.example.com.", dns.TypeA, false)

	resp := a.want(t, "u2.users.example.com.", dns.TypeA, dns.RcodeSuccess, cache.Secure, false)
	wildcardAnswer(t, resp, "u2.users.example.com.", dns.TypeA, true)
	if a, ok := resp.Answer[0].(*dns.A); !ok || a.A.String() != "203.0.113.80" {
		t.Errorf("synthesised answer %v, want the wildcard's 203.0.113.80", resp.Answer[0])
	}
	// Deeper names match the same wildcard (RFC 4592 3.3.1): users is
	// their closest encloser too.
	resp = a.want(t, "deep.u3.users.example.com.", dns.TypeA, dns.RcodeSuccess, cache.Secure, false)
	wildcardAnswer(t, resp, "deep.u3.users.example.com.", dns.TypeA, true)
	// CD clients get it too, as the negative answers.
	if _, n := a.ask(t, "cd.users.example.com.", dns.TypeA, true); n != 0 {
		t.Errorf("CD query under a cached wildcard: %d upstream queries, want 0", n)
	}
	// TXT was not learned: one resolution, then synthesised.
	a.want(t, "u4.users.example.com.", dns.TypeTXT, dns.RcodeSuccess, cache.Secure, true)
	resp = a.want(t, "u5.users.example.com.", dns.TypeTXT, dns.RcodeSuccess, cache.Secure, false)
	wildcardAnswer(t, resp, "u5.users.example.com.", dns.TypeTXT, true)
	// The wildcard has no MX: NODATA from the NSEC at *.users, once the
	// zone's SOA (for the negative TTL) has been seen in a NODATA answer.
	a.want(t, "u6.users.example.com.", dns.TypeMX, dns.RcodeSuccess, cache.Secure, true)
	resp = a.want(t, "u6b.users.example.com.", dns.TypeMX, dns.RcodeSuccess, cache.Secure, false)
	if len(resp.Answer) != 0 {
		t.Errorf("MX under the wildcard: answer %v, want NODATA", resp.Answer)
	}
	// Names that exist are not covered by any cached NSEC.
	a.want(t, "www.example.com.", dns.TypeA, dns.RcodeSuccess, cache.Secure, true)
	a.want(t, "web.example.com.", dns.TypeA, dns.RcodeSuccess, cache.Secure, true)

	a.clk.advance(301 * time.Second)
	a.want(t, "u7.users.example.com.", dns.TypeA, dns.RcodeSuccess, cache.Secure, true)
	a.want(t, "u8.users.example.com.", dns.TypeA, dns.RcodeSuccess, cache.Secure, false)
}

// TestAggressiveWildcardDO: a DO client gets from the handler what an
// authoritative server sends for a wildcard answer — the RRSIG with fewer
// labels than the owner, the NSEC covering the name and its RRSIG in the
// authority section — with AD, and the reply validates.
func TestAggressiveWildcardDO(t *testing.T) {
	a := newAggrLab(t, nil)
	a.want(t, "u1.users.example.com.", dns.TypeA, dns.RcodeSuccess, cache.Secure, true)
	h := resolver.NewHandler(a.r, resolver.HandlerConfig{})
	t.Cleanup(h.Close)
	const name = "new.users.example.com."
	before := a.net.n.Load()
	out, _ := serve(h, queryWire(t, name, dns.TypeA, flags{edns: true, do: true}), false)
	if n := a.net.n.Load() - before; n != 0 {
		t.Errorf("DO query under a cached wildcard: %d upstream queries, want 0", n)
	}
	var m dns.Msg
	if err := m.Unpack(out); err != nil {
		t.Fatal(err)
	}
	if m.Rcode != dns.RcodeSuccess || !m.AuthenticatedData {
		t.Fatalf("rcode %s AD %v, want NOERROR with AD:\n%v", dns.RcodeToString[m.Rcode], m.AuthenticatedData, &m)
	}
	var sig *dns.RRSIG
	var data int
	for _, rr := range m.Answer {
		switch r := rr.(type) {
		case *dns.A:
			data++
		case *dns.RRSIG:
			sig = r
		}
	}
	if data != 1 || sig == nil || int(sig.Labels) >= dns.CountLabel(name) {
		t.Errorf("answer section %v: want the A record and its RRSIG with labels < %d", m.Answer, dns.CountLabel(name))
	}
	var nsec bool
	for _, rr := range m.Ns {
		if r, ok := rr.(*dns.NSEC); ok && dnssec.Covers(r, name) {
			nsec = true
		}
	}
	if !nsec {
		t.Errorf("authority section %v: want the NSEC covering %s", m.Ns, name)
	}

	// The reply checks out with the validator a stub would run (lookup
	// +validate), its keys fetched through the same resolver.
	fetch := validate.FetcherFunc(func(ctx context.Context, n string, qt uint16) (*dns.Msg, error) {
		resp, err := a.r.ResolveSecure(ctx, dns.Question{Name: n, Qtype: qt, Qclass: dns.ClassINET}, true)
		if err != nil {
			return nil, err
		}
		r := new(dns.Msg)
		r.SetQuestion(n, qt)
		r.Response, r.Rcode = true, resp.Rcode
		r.Answer = append(append(r.Answer, resp.Answer...), resp.Sigs...)
		r.Ns = append(append(r.Ns, resp.Ns...), resp.Proof...)
		return r, nil
	})
	v := validate.New(fetch, validate.Options{Anchors: a.anchors, Now: a.clk.now})
	verdict := v.Validate(context.Background(), &m, name, dns.TypeA)
	if !verdict.Secure() {
		t.Errorf("synthesised wildcard answer does not validate: %v %v", verdict.Result, verdict.Err)
	}
	wild := false
	for _, rv := range verdict.RRsets {
		if rv.Role == "answer" && rv.Wildcard == "users.example.com." {
			wild = true
		}
	}
	if !wild {
		t.Errorf("validator did not see a wildcard expansion from users.example.com: %+v", verdict.RRsets)
	}
}

// TestAggressiveWildcardOff: no wildcard synthesis when aggressive use is
// off, without validation, or under a negative trust anchor (RFC 7646).
func TestAggressiveWildcardOff(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*resolver.Config)
		sec  cache.Security
	}{
		{"flag", func(c *resolver.Config) { c.NoAggressiveNSEC = true }, cache.Secure},
		{"no-dnssec", func(c *resolver.Config) { c.DNSSEC = nil }, cache.Unchecked},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAggrLab(t, tc.mod)
			a.want(t, "u1.users.example.com.", dns.TypeA, dns.RcodeSuccess, tc.sec, true)
			a.want(t, "u2.users.example.com.", dns.TypeA, dns.RcodeSuccess, tc.sec, true)
		})
	}
	t.Run("nta", func(t *testing.T) {
		a := newAggrLab(t, nil)
		a.want(t, "u1.users.example.com.", dns.TypeA, dns.RcodeSuccess, cache.Secure, true)
		a.want(t, "u2.users.example.com.", dns.TypeA, dns.RcodeSuccess, cache.Secure, false)
		nta := dnssec.NewAnchorSet()
		for _, z := range a.anchors.Zones() {
			anc, _ := a.anchors.Lookup(z)
			for _, ds := range anc.DS {
				if err := nta.Add(ds); err != nil {
					t.Fatal(err)
				}
			}
		}
		nta.AddNegative("example.com.")
		a.r.SetTrustAnchors(nta)
		a.want(t, "u3.users.example.com.", dns.TypeA, dns.RcodeSuccess, cache.Insecure, true)
	})
}

// nsec3WildcardLab is the signed lab with wildcards added to example.net
// (an NSEC3 zone without opt-out), *.dyn.example.net, and to org (NSEC3
// opt-out), *.dyn.org.
func nsec3WildcardLab(t *testing.T) *aggrLab {
	t.Helper()
	zones := fstest.MapFS{}
	err := fs.WalkDir(lab.Zones(), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		b, err := fs.ReadFile(lab.Zones(), p)
		if err != nil {
			return err
		}
		switch p {
		case "example.net.zone":
			b = append(b, "*.dyn IN A 198.51.100.80\n*.dyn IN TXT \"nsec3 wildcard\"\n"...)
		case "org.zone":
			b = append(b, "*.dyn IN A 198.51.100.81\n"...)
		}
		zones[p] = &fstest.MapFile{Data: b}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return newAggrLabWith(t, lab.Options{Zones: zones}, nil)
}

// TestAggressiveWildcardNSEC3: the same in an NSEC3 zone (RFC 5155 8.8):
// the cached NSEC3 covering the next closer name's hash proves the name
// absent below the wildcard's parent, whose wildcard RRset answers it.
func TestAggressiveWildcardNSEC3(t *testing.T) {
	a := nsec3WildcardLab(t)
	first := a.want(t, "u1.dyn.example.net.", dns.TypeA, dns.RcodeSuccess, cache.Secure, true)
	var cover *dns.NSEC3
	for _, rr := range first.Proof {
		if r, ok := rr.(*dns.NSEC3); ok {
			cover = r
		}
	}
	if cover == nil {
		t.Fatalf("wildcard answer without an NSEC3 proof: %v", first.Proof)
	}
	// Names whose next closer name (their label under dyn) hashes into
	// the cached span, and one that does not.
	var in []string
	out := ""
	for i := 0; i < 2000 && (len(in) < 3 || out == ""); i++ {
		nc := fmt.Sprintf("n%d.dyn.example.net.", i)
		h, err := dnssec.HashName(nc, 0, nil)
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case dnssec.Covers3(cover, h) && len(in) < 3:
			in = append(in, nc)
		case !dnssec.Covers3(cover, h) && out == "":
			out = nc
		}
	}
	if len(in) < 3 || out == "" {
		t.Fatalf("no names found inside (%q) and outside (%q) the cached span", in, out)
	}
	resp := a.want(t, in[0], dns.TypeA, dns.RcodeSuccess, cache.Secure, false)
	wildcardAnswer3(t, resp, in[0])
	if a, ok := resp.Answer[0].(*dns.A); !ok || a.A.String() != "198.51.100.80" {
		t.Errorf("synthesised answer %v, want the wildcard's 198.51.100.80", resp.Answer[0])
	}
	// Deeper: the next closer name is still in[1].
	resp = a.want(t, "deep."+in[1], dns.TypeA, dns.RcodeSuccess, cache.Secure, false)
	wildcardAnswer3(t, resp, "deep."+in[1])
	a.want(t, out, dns.TypeA, dns.RcodeSuccess, cache.Secure, true)
	a.want(t, in[2], dns.TypeTXT, dns.RcodeSuccess, cache.Secure, true) // TXT not learned yet
	a.clk.advance(301 * time.Second)
	a.want(t, "again."+in[0], dns.TypeA, dns.RcodeSuccess, cache.Secure, true)

	// An opt-out span proves nothing about the names in it (RFC 5155
	// 9.2): the expansion is insecure, and every name under org's
	// wildcard goes upstream.
	first = a.ask1(t, "u1.dyn.org.", dns.TypeA)
	if first.Security != cache.Insecure {
		t.Errorf("wildcard answer under an opt-out span: security %d, want insecure", first.Security)
	}
	for i := range 5 {
		if _, n := a.ask(t, fmt.Sprintf("v%d.dyn.org.", i), dns.TypeA, false); n == 0 {
			t.Errorf("v%d.dyn.org: answered from the cache under an opt-out NSEC3 zone's wildcard (first answer %v)", i, first.Answer)
		}
	}
}

// ask1 is ask for a name whose answer must be NOERROR with data.
func (a *aggrLab) ask1(t *testing.T, name string, qtype uint16) *resolver.Response {
	t.Helper()
	resp, _ := a.ask(t, name, qtype, false)
	if resp.Rcode != dns.RcodeSuccess || len(resp.Answer) == 0 {
		t.Fatalf("%s %s: rcode %s answer %v", name, dns.TypeToString[qtype], dns.RcodeToString[resp.Rcode], resp.Answer)
	}
	return resp
}

// wildcardAnswer3 is wildcardAnswer for an NSEC3 zone: the RRSIG says
// the expansion and the proof holds NSEC3 records with RRSIGs.
func wildcardAnswer3(t *testing.T, resp *resolver.Response, name string) {
	t.Helper()
	if len(resp.Answer) != 1 || !dns.IsSubDomain(name, resp.Answer[0].Header().Name) || !dns.IsSubDomain(resp.Answer[0].Header().Name, name) {
		t.Fatalf("%s: answer %v", name, resp.Answer)
	}
	if ttl := resp.Answer[0].Header().Ttl; ttl == 0 || ttl > 300 {
		t.Errorf("%s: TTL %d, want 1..300", name, ttl)
	}
	if len(resp.Sigs) == 0 || int(resp.Sigs[0].(*dns.RRSIG).Labels) >= dns.CountLabel(name) {
		t.Errorf("%s: RRSIGs %v, want one with labels below %d", name, resp.Sigs, dns.CountLabel(name))
	}
	var recs, sigs int
	for _, rr := range resp.Proof {
		switch rr.Header().Rrtype {
		case dns.TypeNSEC3:
			recs++
		case dns.TypeRRSIG:
			sigs++
		}
	}
	if recs == 0 || sigs < recs {
		t.Errorf("%s: proof %v, want NSEC3 records with RRSIGs", name, resp.Proof)
	}
}

// TestAggressiveWildcardConcurrent: many clients at once under a cached
// wildcard (run with -race): each gets its own records, owner and TTL
// set on copies, never on records another answer shares.
func TestAggressiveWildcardConcurrent(t *testing.T) {
	a := newAggrLab(t, nil)
	a.want(t, "u1.users.example.com.", dns.TypeA, dns.RcodeSuccess, cache.Secure, true)
	before := a.net.n.Load()
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 50 {
				name := fmt.Sprintf("g%d-%d.users.example.com.", g, i)
				resp, err := a.r.ResolveSecure(context.Background(), dns.Question{Name: name, Qtype: dns.TypeA, Qclass: dns.ClassINET}, false)
				if err != nil || resp.Security != cache.Secure || len(resp.Answer) != 1 || resp.Answer[0].Header().Name != name {
					t.Errorf("%s: %v %+v", name, err, resp)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n := a.net.n.Load() - before; n != 0 {
		t.Errorf("%d upstream queries for names under a cached wildcard, want 0", n)
	}
}
