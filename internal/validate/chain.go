package validate

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
)

// walk is one Validate call: its budget, its fetch count, what it has
// learnt about zones, and the verdict it builds.
type walk struct {
	v       *Validator
	anchors *dnssec.AnchorSet // as when the call started
	ctx     context.Context
	now     time.Time
	b       *dnssec.Budget
	zones   map[string]*zoneState // this call's outcomes by zone, bogus ones included
	cuts    map[string]bool       // names proven not to be zone cuts in this call
	out     Verdict
	rank    int // rank of out.Result; -1 before the first judgement
	hops    map[string]bool
	// proven memoises NSEC/NSEC3 RRsets already validated in this call:
	// one covering NSEC proves many empty non-terminals on a walk, and
	// need not be verified once per label.
	proven map[string]dnssec.RRsetResult
	cached map[string]bool // zones whose state came from the key cache
}

// zoneState is what the walk established about a zone: Secure with its
// validated keys, Insecure (a proven unsigned delegation, or algorithms
// we do not implement), or Bogus.
type zoneState struct {
	ks  *dnssec.KeySet
	res dnssec.Result
	hop Hop
}

var errTooManyFetches = errors.New("validate: too many queries for one validation")

// fetch sends one query of the chain, bounded by MaxFetches.
func (w *walk) fetch(name string, qtype uint16) (*dns.Msg, error) {
	if w.out.Fetches >= MaxFetches {
		return nil, fmt.Errorf("%w (%d)", errTooManyFetches, MaxFetches)
	}
	if err := w.ctx.Err(); err != nil {
		return nil, err
	}
	w.out.Fetches++
	m, err := w.v.f.Fetch(w.ctx, name, qtype)
	if err == nil && m == nil {
		err = errors.New("no reply")
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", name, dns.TypeToString[qtype], err)
	}
	return m, nil
}

// fetchFailed records a failed query: the chain is broken (bogus, EDE 9
// for a DNSKEY set, 6 otherwise), and Verdict.Err says why.
func (w *walk) fetchFailed(zone string, qtype uint16, err error) *zoneState {
	if w.out.Err == nil {
		w.out.Err = err
	}
	code := dnssec.EDEDNSSECBogus
	if qtype == dns.TypeDNSKEY {
		code = dnssec.EDEDNSKEYMissing
	}
	return w.remember(zone, &zoneState{res: bogusf(code, "cannot fetch: %v", err), hop: Hop{Zone: zone}}, 0)
}

// state returns what is known about zone: from this call, or from the
// key cache (then its hop will be shown as cached).
func (w *walk) state(zone string) *zoneState {
	if st, ok := w.zones[zone]; ok {
		return st
	}
	if w.v.cache == nil || w.b.IgnoreTime {
		return nil // a wrong clock neither reads nor fills the cache
	}
	st, ok := w.v.cache.get(zone, w.now)
	if !ok {
		return nil
	}
	w.zones[zone] = st
	if w.cached == nil {
		w.cached = map[string]bool{}
	}
	w.cached[zone] = true
	return st
}

// remember records a zone's outcome for this call and, unless bogus, in
// the key cache for ttl seconds.
func (w *walk) remember(zone string, st *zoneState, ttl uint32) *zoneState {
	st.hop.Result = st.res
	w.zones[zone] = st
	w.addHop(st.hop)
	if w.v.cache != nil && st.res.Status != dnssec.Bogus && w.b.Exhausted == "" && !w.b.IgnoreTime {
		w.v.cache.put(zone, st, ttl, w.now)
	}
	return st
}

func (w *walk) addHop(h Hop) {
	if w.hops == nil {
		w.hops = map[string]bool{}
	}
	if !w.hops[h.Zone] {
		w.hops[h.Zone] = true
		w.out.Chain = append(w.out.Chain, h)
	}
}

// keysFor returns the validated keys of the deepest zone at or above
// target on the chain from the closest trust anchor (RFC 4035 4.4, 5.1),
// walking down one label at a time: for each name below the anchor a DS
// query tells a signed cut (descend), a proven unsigned cut (Insecure)
// or no cut (go on). A name under a negative trust anchor is Insecure
// without any query (RFC 7646 2.1); a name no anchor covers is
// Indeterminate.
func (w *walk) keysFor(target string) (*dnssec.KeySet, dnssec.Result) {
	if nta, ok := w.anchors.Negative(target); ok {
		return nil, dnssec.Result{Status: dnssec.Insecure, EDE: dnssec.NoEDE, Text: "negative trust anchor " + nta + " (RFC 7646)"}
	}
	anc, ok := w.anchors.Lookup(target)
	if !ok {
		return nil, dnssec.Result{Status: dnssec.Indeterminate, EDE: dnssec.EDEDNSSECIndeterminate, Text: "no trust anchor covers " + target}
	}
	names := pathFrom(anc.Zone, target)
	// Start from the deepest zone already known.
	start, cur := 0, (*zoneState)(nil)
	for i := len(names) - 1; i >= 0; i-- {
		if st := w.state(names[i]); st != nil {
			start, cur = i, st
			break
		}
	}
	if cur == nil {
		cur = w.anchorZone(anc)
	} else {
		// Show the whole known chain, the anchor first, even when
		// it comes from the cache.
		for _, name := range names[:start+1] {
			if st := w.state(name); st != nil {
				h := st.hop
				h.Cached = w.cached[name]
				w.addHop(h)
			}
		}
	}
	if cur.res.Status != dnssec.Secure {
		return nil, cur.res
	}
	for _, name := range names[start+1:] {
		if w.cuts[name] {
			continue
		}
		next := w.descend(cur, name)
		if next == nil {
			if w.cuts == nil {
				w.cuts = map[string]bool{}
			}
			w.cuts[name] = true
			continue
		}
		if next.res.Status != dnssec.Secure {
			return nil, next.res
		}
		cur = next
	}
	return cur.ks, cur.res
}

// anchorZone validates the anchor zone's DNSKEY set against the anchor's
// DS or DNSKEY records (RFC 4035 5.2 with the anchor for the DS set).
func (w *walk) anchorZone(anc *dnssec.Anchor) *zoneState {
	m, err := w.fetch(anc.Zone, dns.TypeDNSKEY)
	if err != nil {
		return w.fetchFailed(anc.Zone, dns.TypeDNSKEY, err)
	}
	keys := sets(m.Answer).find(anc.Zone, dns.TypeDNSKEY)
	hop := Hop{Zone: anc.Zone, Anchor: true, DS: anc.DS}
	ks, res := dnssec.VerifyDNSKEYs(anc.Zone, keys.records(), keys.signatures(), anc.DS, anc.Keys, w.now, w.b)
	return w.remember(anc.Zone, w.keyState(hop, keys, anc.DS, anc.Keys, ks, res), ttlOf(ks))
}

// keyState completes a hop with the DNSKEY set's description.
func (w *walk) keyState(hop Hop, keys *rrset, ds []*dns.DS, anchorKeys []*dns.DNSKEY, ks *dnssec.KeySet, res dnssec.Result) *zoneState {
	hop.Keys = keyInfos(keys, ds, anchorKeys)
	if ks != nil && ks.Sig != nil {
		hop.KeySigTag = ks.Sig.KeyTag
	}
	return &zoneState{ks: ks, res: res, hop: hop}
}

// descend asks whether name, below the zone of cur, is a zone cut (RFC
// 4035 5.2): it returns the child's state, or nil when name is no cut.
// Only a validated proof can make a cut insecure; a missing or forged
// one makes it bogus, never insecure.
func (w *walk) descend(cur *zoneState, name string) *zoneState {
	m, err := w.fetch(name, dns.TypeDS)
	if err != nil {
		return w.fetchFailed(name, dns.TypeDS, err)
	}
	hop := Hop{Zone: name}
	bad := func(res dnssec.Result) *zoneState { return w.remember(name, &zoneState{res: res, hop: hop}, 0) }
	if m.Rcode != dns.RcodeSuccess && m.Rcode != dns.RcodeNameError {
		return bad(bogusf(dnssec.EDEDNSSECBogus, "DS query for %s: %s", name, dns.RcodeToString[m.Rcode]))
	}
	ans := sets(m.Answer)
	if ds := ans.find(name, dns.TypeDS); ds != nil && m.Rcode == dns.RcodeSuccess {
		return w.signedCut(cur, name, ds)
	}
	if ans.find(name, dns.TypeCNAME) != nil {
		// A CNAME owner is no cut (RFC 2181 10.1: no NS beside it). If
		// this is a lie, the data below is judged with the parent's keys
		// and fails: a skipped cut can make data bogus, never secure.
		return nil
	}
	proof, ttl, res := w.proof(sets(m.Ns), cur.ks, nil)
	if res.Status != dnssec.Secure {
		return bad(res)
	}
	if m.Rcode == dns.RcodeNameError {
		res = proof.NXDomain(name, w.b)
		switch res.Status {
		case dnssec.Secure:
			return bad(bogusf(dnssec.EDEDNSSECBogus, "%s does not exist (proven by %s), yet data below it is claimed", name, cur.ks.Zone))
		case dnssec.Insecure: // an opt-out span: possibly an unsigned delegation (RFC 5155 9.2)
			return w.remember(name, &zoneState{res: res, hop: hop}, ttl)
		}
		return bad(res)
	}
	// NODATA for DS (RFC 4035 3.1.4.1, RFC 5155 8.6): either name is no
	// cut, or an unsigned delegation.
	res = proof.NoData(name, dns.TypeDS, w.b)
	switch {
	case w.b.Exhausted != "":
		return bad(bogusf(dnssec.EDEDNSSECBogus, "%s DS: validation budget exhausted (%s)", name, w.b.Exhausted))
	case res.Status == dnssec.Insecure:
		return w.remember(name, &zoneState{res: res, hop: hop}, ttl)
	case res.Status != dnssec.Secure:
		return bad(res)
	}
	if nods := proof.NoDS(name, w.b); nods.Status == dnssec.Secure {
		res = dnssec.Result{Status: dnssec.Insecure, EDE: dnssec.NoEDE,
			Text: fmt.Sprintf("%s is an unsigned delegation (no DS, proven by %s)", name, cur.ks.Zone)}
		return w.remember(name, &zoneState{res: res, hop: hop}, ttl)
	}
	if w.b.Exhausted != "" {
		return bad(bogusf(dnssec.EDEDNSSECBogus, "%s DS: validation budget exhausted (%s)", name, w.b.Exhausted))
	}
	return nil
}

// signedCut validates a DS set with the parent's keys, then the child's
// DNSKEY set with the DS set (RFC 4035 5.2).
func (w *walk) signedCut(parent *zoneState, name string, dsSet *rrset) *zoneState {
	hop := Hop{Zone: name}
	r := dnssec.ValidateRRset(dsSet.records(), dsSet.signatures(), parent.ks, w.now, w.b)
	if r.Sig != nil {
		hop.DSSigTag = r.Sig.KeyTag
	}
	if r.Status != dnssec.Secure {
		return w.remember(name, &zoneState{res: r.Result, hop: hop}, 0)
	}
	var ds []*dns.DS
	for _, rr := range dsSet.rrs {
		ds = append(ds, rr.(*dns.DS))
	}
	hop.DS = ds
	m, err := w.fetch(name, dns.TypeDNSKEY)
	if err != nil {
		st := w.fetchFailed(name, dns.TypeDNSKEY, err)
		st.hop.DS, st.hop.DSSigTag = ds, hop.DSSigTag
		return st
	}
	keys := sets(m.Answer).find(name, dns.TypeDNSKEY)
	ks, res := dnssec.VerifyDNSKEYs(name, keys.records(), keys.signatures(), ds, nil, w.now, w.b)
	ttl := r.TTL
	if ks != nil {
		ttl = min(ttl, ks.TTL)
	}
	return w.remember(name, w.keyState(hop, keys, ds, nil, ks, res), ttl)
}

// proof validates the NSEC and NSEC3 RRsets of a section that the zone
// of ks signed (RFC 9276 3.2: even those whose iterations will make the
// proof insecure) and returns them as a Proof, with the smallest TTL.
// RRsets signed by other zones are left out; an RRset of this zone that
// fails makes the proof bogus. Each judged RRset is reported with role
// when role is not nil.
func (w *walk) proof(auth rrsets, ks *dnssec.KeySet, report func(RRsetVerdict)) (dnssec.Proof, uint32, dnssec.Result) {
	p := dnssec.Proof{Zone: ks.Zone}
	ttl := uint32(1<<31 - 1)
	for _, s := range auth {
		if s.t != dns.TypeNSEC && s.t != dns.TypeNSEC3 {
			continue
		}
		if signer := s.signer(); signer != "" && signer != ks.Zone {
			continue
		}
		r := w.validateOnce(s, ks)
		if r.Status == dnssec.Secure && r.Wildcard != "" {
			// An NSEC or NSEC3 record expanded from a wildcard (RRSIG
			// labels below its owner's) was made for another name: the
			// interval it claims proves nothing (CVE-2017-15105).
			r.Result = bogusf(dnssec.EDEDNSSECBogus, "%s %s was expanded from a wildcard: it proves no denial", s.name, dns.TypeToString[s.t])
		}
		if report != nil {
			report(verdictOf(s, "denial", r))
		}
		if r.Status != dnssec.Secure {
			return p, 0, r.Result
		}
		ttl = min(ttl, r.TTL)
		for _, rr := range s.rrs {
			switch x := rr.(type) {
			case *dns.NSEC:
				p.NSEC = append(p.NSEC, x)
			case *dns.NSEC3:
				p.NSEC3 = append(p.NSEC3, x)
			}
		}
	}
	return p, ttl, dnssec.Result{Status: dnssec.Secure, EDE: dnssec.NoEDE}
}

// validateOnce validates an RRset with ks unless this call already did
// so for the very same records and signatures.
func (w *walk) validateOnce(s *rrset, ks *dnssec.KeySet) dnssec.RRsetResult {
	var b strings.Builder
	b.WriteString(ks.Zone)
	for _, rr := range s.rrs {
		b.WriteString("\n" + rr.String())
	}
	for _, sig := range s.sigs {
		b.WriteString("\n" + sig.String())
	}
	key := b.String()
	if r, ok := w.proven[key]; ok {
		return r
	}
	r := dnssec.ValidateRRset(s.rrs, s.sigs, ks, w.now, w.b)
	if w.proven == nil {
		w.proven = map[string]dnssec.RRsetResult{}
	}
	w.proven[key] = r
	return r
}

// pathFrom lists the names from zone down to target, both included:
// pathFrom("com.", "a.b.com.") is com., b.com., a.b.com.
func pathFrom(zone, target string) []string {
	n := dns.CountLabel(target) - dns.CountLabel(zone)
	out := make([]string, n+1)
	name := target
	for i := n; i >= 0; i-- {
		out[i] = name
		if i > 0 {
			name = parentOf(name)
		}
	}
	return out
}

// parentOf drops the first label of a canonical name other than the root.
func parentOf(name string) string {
	i, end := dns.NextLabel(name, 0)
	if end {
		return "."
	}
	return name[i:]
}

func keyInfos(keys *rrset, ds []*dns.DS, anchorKeys []*dns.DNSKEY) []KeyInfo {
	if keys == nil {
		return nil
	}
	out := make([]KeyInfo, 0, len(keys.rrs))
	for _, rr := range keys.rrs {
		dk, ok := rr.(*dns.DNSKEY)
		if !ok {
			continue
		}
		ki := KeyInfo{Tag: dk.KeyTag(), Algorithm: dk.Algorithm, Flags: dk.Flags}
		for _, d := range ds {
			ki.DSMatch = ki.DSMatch || (d.KeyTag == ki.Tag && d.Algorithm == dk.Algorithm)
		}
		for _, ak := range anchorKeys {
			ki.DSMatch = ki.DSMatch || (ak.KeyTag() == ki.Tag && ak.Algorithm == dk.Algorithm)
		}
		out = append(out, ki)
	}
	return out
}

func ttlOf(ks *dnssec.KeySet) uint32 {
	if ks == nil {
		return 0
	}
	return ks.TTL
}

func bogusf(code dnssec.EDE, format string, args ...any) dnssec.Result {
	return dnssec.Result{Status: dnssec.Bogus, EDE: code, Text: fmt.Sprintf(format, args...)}
}
