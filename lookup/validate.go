package lookup

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnssec"
	"github.com/rootline-dns/rootline/internal/validate"
)

// Security is the DNSSEC status of a reply's data (RFC 4033 5, RFC 4035
// 4.3).
type Security uint8

const (
	// Indeterminate: no trust anchor covers the data, or nothing in the
	// reply could be judged (a SERVFAIL, a referral).
	Indeterminate Security = iota
	// Secure: a chain of signatures leads from a trust anchor to the data.
	Secure
	// Insecure: the chain proves the data's zone unsigned (or signed only
	// with algorithms not implemented, or a negative trust anchor covers
	// it): the data is as trustworthy as the path it came over.
	Insecure
	// Bogus: the data should be signed and is not, or its signatures or
	// proofs fail.
	Bogus
)

var securityNames = [...]string{"indeterminate", "secure", "insecure", "bogus"}

func (s Security) String() string { return nameOf(s, securityNames[:], "security") }

// MarshalText writes the Security's name.
func (s Security) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// Validation says whether a reply's data can be trusted, and why.
type Validation struct {
	Security Security `json:"security"`
	// Authenticated is true when the data is Secure: validated by this
	// client (Local), or marked AD by a resolver the caller trusts
	// (Options.TrustAD; RFC 4035 3.2.3, RFC 6840 5.7).
	Authenticated bool `json:"authenticated"`
	// Local is true when this client validated the reply itself.
	Local bool `json:"local"`
	// EDE is the RFC 8914 Extended DNS Error code that explains a
	// non-secure result, or -1.
	EDE int `json:"ede"`
	// Reason is a human explanation ("" for plain secure data).
	Reason string `json:"reason,omitempty"`
	// Chain is the chain of trust walked, the trust anchor's zone first.
	Chain []ChainHop `json:"chain,omitempty"`
	// Err is set when a query of the chain got no reply.
	Err error `json:"-"`
}

// ChainHop is one zone of a chain of trust.
type ChainHop struct {
	Zone string `json:"zone"`
	// Anchor: the zone's keys were checked against a trust anchor.
	Anchor bool `json:"anchor,omitempty"`
	// DS is the zone's validated DS set (or the anchor's DS records);
	// DSSigTag the parent's key tag whose RRSIG verified it.
	DS       []*dns.DS `json:"-"`
	DSSigTag uint16    `json:"ds_sig_tag,omitempty"`
	// Keys is the zone's DNSKEY set; KeySigTag the tag of the key whose
	// RRSIG over the set verified.
	Keys      []ChainKey `json:"keys,omitempty"`
	KeySigTag uint16     `json:"key_sig_tag,omitempty"`
	// Cached: known from an earlier validation by this Client.
	Cached   bool     `json:"cached,omitempty"`
	Security Security `json:"security"`
	Reason   string   `json:"reason,omitempty"`
}

// ChainKey is one DNSKEY of a hop.
type ChainKey struct {
	Tag       uint16 `json:"tag"`
	Algorithm uint8  `json:"algorithm"`
	Flags     uint16 `json:"flags"`
	// DSMatch: a DS record (or trust anchor) names this key.
	DSMatch bool `json:"ds_match,omitempty"`
}

// KSK reports the SEP flag (RFC 4034 2.1.1), by convention a key-signing
// key.
func (k ChainKey) KSK() bool { return k.Flags&dnssec.FlagSEP != 0 }

// ParseTrustAnchors reads DS and DNSKEY trust anchors in zone-file syntax
// (for Options.TrustAnchors); file names the source in errors.
func ParseTrustAnchors(r io.Reader, file string) ([]dns.RR, error) {
	rrs, err := dnssec.ParseAnchors(r, file)
	if err != nil {
		return nil, fmt.Errorf("lookup: %w", err)
	}
	return rrs, nil
}

// newValidator builds the Client's validator from its options: the
// queries of the chain go to the Client's servers with DO and CD set, as
// delv sends them, so that a validating resolver passes on data it finds
// bogus and this client can say why.
func newValidator(c *Client, o Options) (*validate.Validator, error) {
	anchors := dnssec.DefaultAnchors()
	if len(o.TrustAnchors) > 0 {
		anchors = dnssec.NewAnchorSet()
		for _, rr := range o.TrustAnchors {
			if err := anchors.Add(rr); err != nil {
				return nil, fmt.Errorf("lookup: %w", err)
			}
		}
	}
	for _, z := range o.NegativeTrustAnchors {
		anchors.AddNegative(z)
	}
	now := o.Now
	if now == nil {
		now = time.Now
	}
	return validate.New(validate.FetcherFunc(c.fetchDNSSEC), validate.Options{Anchors: anchors, Now: now}), nil
}

// fetchDNSSEC asks the configured servers for (name, qtype) with RD, DO
// and CD (RFC 4035 3.2.2: a validating stub sets CD and checks the data
// itself).
func (c *Client) fetchDNSSEC(ctx context.Context, name string, qtype uint16) (*dns.Msg, error) {
	req := new(dns.Msg)
	req.SetQuestion(name, qtype)
	req.RecursionDesired, req.CheckingDisabled = true, true
	req.SetEdns0(1232, true)
	good := func(r *dns.Msg) bool { return r.Rcode == dns.RcodeSuccess || r.Rcode == dns.RcodeNameError }
	r, _, err := c.exchange(ctx, name, req, good)
	return r, err
}

// Validate judges reply, a reply to its own question. With
// Options.TrustAD, a reply with AD set is taken as authenticated without
// local validation (the caller trusts its resolver and the path to it,
// RFC 4035 4.9.3, RFC 6840 5.7); everything else is validated here, from
// the trust anchors down, asking the Client's servers for the DS and
// DNSKEY records of the chain.
func (c *Client) Validate(ctx context.Context, reply *dns.Msg) Validation {
	if reply == nil || len(reply.Question) == 0 {
		return Validation{Security: Indeterminate, EDE: -1, Reason: "no question to validate"}
	}
	if c.trustAD && reply.AuthenticatedData {
		return Validation{Security: Secure, Authenticated: true, EDE: -1, Reason: "AD from a trusted resolver"}
	}
	q := reply.Question[0]
	return validation(c.validator.Validate(ctx, reply, q.Name, q.Qtype))
}

// LookupValidated asks for (name, qtype) with DO set, then validates the
// reply (Validate). The query sets CD unless Options.TrustAD is on (a
// trusted resolver's AD bit is then wanted). The reply is returned
// whatever its RCODE and verdict; error means no reply was obtained.
func (c *Client) LookupValidated(ctx context.Context, name string, qtype uint16) (*dns.Msg, Validation, error) {
	if err := checkName(name); err != nil {
		return nil, Validation{}, err
	}
	req := new(dns.Msg)
	req.SetQuestion(dns.Fqdn(name), qtype)
	req.RecursionDesired = true
	req.CheckingDisabled = !c.trustAD
	req.AuthenticatedData = c.trustAD // RFC 6840 5.7: ask for AD
	req.SetEdns0(1232, true)
	r, _, err := c.exchange(ctx, name, req, func(*dns.Msg) bool { return true })
	if err != nil {
		return nil, Validation{}, err
	}
	return r, c.Validate(ctx, r), nil
}

// validation converts the internal verdict to the public form.
func validation(v validate.Verdict) Validation {
	out := Validation{Security: securityOf(v.Status), Local: true, EDE: edeOf(v.EDE), Reason: v.Text, Err: v.Err}
	out.Authenticated = out.Security == Secure
	for _, h := range v.Chain {
		ch := ChainHop{Zone: h.Zone, Anchor: h.Anchor, DS: h.DS, DSSigTag: h.DSSigTag, KeySigTag: h.KeySigTag,
			Cached: h.Cached, Security: securityOf(h.Status), Reason: h.Text}
		for _, k := range h.Keys {
			ch.Keys = append(ch.Keys, ChainKey{Tag: k.Tag, Algorithm: k.Algorithm, Flags: k.Flags, DSMatch: k.DSMatch})
		}
		out.Chain = append(out.Chain, ch)
	}
	return out
}

func securityOf(s dnssec.Status) Security {
	switch s {
	case dnssec.Secure:
		return Secure
	case dnssec.Insecure:
		return Insecure
	case dnssec.Bogus:
		return Bogus
	}
	return Indeterminate
}

func edeOf(e dnssec.EDE) int {
	if e == dnssec.NoEDE {
		return -1
	}
	return int(e)
}
