package resolver

import (
	"context"
	"fmt"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/cache"
	"github.com/rootline-dns/rootline/internal/dnsname"
	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/validate"
)

// BogusTTL is how long data that failed validation stays in the cache, so
// that repeated queries for it (or an attacker's) do not repeat the
// validation's work, while a fixed zone heals quickly: Unbound's
// val-bogus-ttl, 60 seconds.
const BogusTTL = 60

// This file is the validator's place in the resolver (RFC 4035 4). The
// iteration stores what it learns unjudged (cache.Unchecked), with its
// RRSIGs and proofs; a resolution for a client that did not set CD is
// then judged as a whole by internal/validate, and the verdict is written
// back to each RRset's cache entry, so a cache hit knows its status
// without validating again. The validator's own questions (DS and DNSKEY
// sets) go through the resolver too, with CD semantics: they are resolved
// and cached, never judged, so validation never recurses into itself; the
// validator judges them as links of its chain and bounds their number
// (validate.MaxFetches).

// newValidator returns the validator of a resolver whose Config has
// DNSSEC on.
func (r *Resolver) newValidator() *validate.Validator {
	fetch := validate.FetcherFunc(func(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
		resp, err := r.Resolve(ctx, dns.Question{Name: name, Qtype: qtype, Qclass: dns.ClassINET})
		if err != nil {
			return nil, err
		}
		return resp.msg(name, qtype), nil
	})
	return validate.New(fetch, validate.Options{Anchors: r.cfg.DNSSEC.Anchors, Now: r.cfg.Now, TimeFloor: r.cfg.DNSSEC.TimeFloor,
		CacheSize: r.cfg.Tables.KeyCache})
}

// TrustAnchors returns the validator's trust anchors (nil when the
// resolver does not validate).
func (r *Resolver) TrustAnchors() *dnssec.AnchorSet {
	if r.val == nil {
		return nil
	}
	return r.val.Anchors()
}

// SetTrustAnchors replaces the validator's trust anchors (an RFC 5011
// update of a trust point). Verdicts already cached stand: a rollover
// changes which keys anchor the chain, not whether the data was signed
// by it. It does nothing when the resolver does not validate.
func (r *Resolver) SetTrustAnchors(a *dnssec.AnchorSet) {
	if r.val != nil {
		r.val.SetAnchors(a)
	}
}

// msg is the response as a message with its DNSSEC records, as an
// upstream validating resolver would send it to a DO client.
func (resp *Response) msg(name string, qtype uint16) *dns.Msg {
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	m.Response, m.Rcode = true, resp.Rcode
	m.Answer = append(append(m.Answer, resp.Answer...), resp.Sigs...)
	m.Ns = append(append(m.Ns, resp.Ns...), resp.Proof...)
	return m
}

// Validating reports whether the resolver validates (Config.DNSSEC).
func (r *Resolver) Validating() bool { return r.val != nil }

// ResolveSecure is Resolve for a client: unless validation is off or the
// client set CD (RFC 4035 3.2.2: it validates itself and wants the data
// whatever its status), the response is judged and its Security set.
// A Bogus response is still a response: the caller answers SERVFAIL
// with its EDE (RFC 8914), but a CD client would get its data.
func (r *Resolver) ResolveSecure(ctx context.Context, q dns.Question, cd bool) (*Response, error) {
	resp, err := r.Resolve(ctx, q)
	if err != nil || r.val == nil || cd {
		return resp, err
	}
	if resp.Security == cache.Unchecked {
		// Judging may fetch keys, which a cache-only answer must not;
		// and a verdict reached without them must not be cached.
		if err := busy(ctx, r.stats); err != nil {
			return nil, err
		}
	}
	return r.judge(ctx, q, resp), nil
}

// judge returns resp with its verdict: the cached one when every part
// of it was judged before, else the validator's, written back to the
// cache. resp itself is shared (coalesced callers) and is not changed.
func (r *Resolver) judge(ctx context.Context, q dns.Question, resp *Response) *Response {
	rec := r.recorderFrom(ctx)
	if resp.Security != cache.Unchecked {
		rec.verdictCached(resp)
		return resp
	}
	name := dnsname.Canonical(q.Name)
	rec.setPhase(PurposeDNSSEC)
	v := r.val.Validate(ctx, resp.msg(name, q.Qtype), name, q.Qtype)
	r.stats.Validations.Add(1)
	out := *resp
	out.Security, out.EDE, out.Why = securityOf(v.Status), uint16(v.EDE), v.Text
	if v.EDE == dnssec.NoEDE {
		out.EDE = noEDE
	}
	if v.Err != nil {
		out.Why = fmt.Sprintf("%s: %v", v.Text, v.Err)
	}
	rec.validated(v, out.Security, out.EDE, out.Why)
	if r.clockUnset(v.TimeUnchecked) {
		// No AD and nothing cached: the verdict holds only for a clock
		// known to be wrong (dnsmasq's --dnssec-no-timecheck). Bogus
		// (a signature that does not verify at all) stays bogus.
		if out.Security == cache.Secure {
			out.Security = cache.Insecure
		}
		if out.Security == cache.Bogus {
			r.stats.Bogus.Add(1)
		}
		return &out
	}
	if out.Security == cache.Bogus {
		r.stats.Bogus.Add(1)
		r.log.Debug("bogus", "name", name, "type", dns.TypeToString[q.Qtype], "why", out.Why)
	}
	r.remember(resp, name, q.Qtype, v, out.Security, out.EDE)
	if out.Security != cache.Bogus {
		r.learnDenial(resp, v)
	}
	return &out
}

// clockUnset reports unchecked, logging when the resolver enters and
// leaves the state where its clock is before the time floor.
func (r *Resolver) clockUnset(unchecked bool) bool {
	if r.timeUnchecked.CompareAndSwap(!unchecked, unchecked) {
		if unchecked {
			r.log.Warn("clock before floor, DNSSEC time checks off: answers are validated without signature times and never get AD",
				"now", r.cfg.Now().UTC().Format(time.RFC3339), "floor", r.cfg.DNSSEC.TimeFloor.UTC().Format(time.RFC3339))
		} else {
			r.log.Info("clock past floor, DNSSEC time checks on", "now", r.cfg.Now().UTC().Format(time.RFC3339))
		}
	}
	return unchecked
}

// noEDE marks a response without an Extended DNS Error code.
const noEDE = uint16(dnssec.NoEDE)

// securityOf maps a validation status onto the cache's: Indeterminate (no
// trust anchor covers the data, or nothing was there to judge) is served
// as insecure data is, without AD.
func securityOf(s dnssec.Status) cache.Security {
	switch s {
	case dnssec.Secure:
		return cache.Secure
	case dnssec.Bogus:
		return cache.Bogus
	}
	return cache.Insecure
}

// remember writes the verdict back to the cache: each RRset of the
// answer chain gets its own (a secure CNAME may lead to bogus data),
// capped at the TTL RFC 4035 5.3.3 allows; a negative answer's entry gets
// that of its SOA and proof, or the whole response's when they were not
// judged apart. Bogus entries live at most BogusTTL.
func (r *Resolver) remember(resp *Response, name string, qtype uint16, v validate.Verdict, overall cache.Security, ede uint16) {
	set := func(k cache.Key, sec cache.Security, ttl uint32, code uint16) {
		if sec == cache.Bogus {
			ttl = BogusTTL
		} else {
			code = noEDE
		}
		if code == noEDE {
			code = 0
		}
		r.cache.SetSecurity(k, sec, uint8(min(code, 255)), ttl)
	}
	neg := overall
	negJudged := false
	for _, rv := range v.RRsets {
		sec := securityOf(rv.Status)
		switch rv.Role {
		case "answer", "cname", "dname":
			set(cache.NewKey(rv.Name, rv.Type), sec, rv.TTL, uint16(rv.EDE))
		case "soa", "denial":
			if !negJudged || sec == cache.Bogus || (sec == cache.Insecure && neg == cache.Secure) {
				neg = sec
			}
			negJudged = true
		}
	}
	if v.Err != nil || len(v.RRsets) == 0 {
		neg = overall
	}
	if resp.Rcode == dns.RcodeNameError || (resp.Rcode == dns.RcodeSuccess && !answers(resp, qtype)) {
		final := name
		if n := len(resp.Answer); n > 0 {
			if c, ok := resp.Answer[n-1].(*dns.CNAME); ok {
				final = dnsname.Canonical(c.Target)
			}
		}
		set(cache.NewKey(final, qtype), neg, 0, ede)
	} else if v.Err != nil || overall == cache.Bogus && len(v.RRsets) == 0 {
		for _, rr := range resp.Answer {
			set(cache.NewKey(rr.Header().Name, rr.Header().Rrtype), cache.Bogus, 0, ede)
		}
	}
}

// answers reports whether resp holds data of type qtype (not only a
// CNAME chain ending in NODATA).
func answers(resp *Response, qtype uint16) bool {
	for _, rr := range resp.Answer {
		if t := rr.Header().Rrtype; t == qtype || qtype == dns.TypeANY {
			return true
		}
	}
	return false
}
