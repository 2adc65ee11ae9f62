package main

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/tsig"
	"github.com/rootline-dns/rootline/lookup"
)

// lookupTSIG is what -y and -k set: queries are signed with key and
// replies verified, as dig does (RFC 8945).
type lookupTSIG struct {
	key *tsig.Key
	// verify is the last reply's check: nil when it verified.
	verify error
	// now is the signing clock (tests); nil: time.Now.
	now func() time.Time
}

// setTSIG takes -y [ALG:]NAME:SECRET or -k FILE (a BIND key file, as
// tsig-keygen writes it; its first key).
func (a *lookupArgs) setTSIG(flag, v string) error {
	var k tsig.Key
	switch flag {
	case "-y":
		var err error
		if k, err = tsig.ParseKey(v); err != nil {
			return usageErr("-y: %v", err)
		}
	default:
		keys, err := tsig.ReadKeyFile(v)
		if err != nil {
			return usageErr("-k: %v", err)
		}
		k = keys[0]
	}
	a.tsig = &lookupTSIG{key: &k}
	return nil
}

// exchange asks the question: signed with the TSIG key when one was
// given, else through client.
func (a *lookupArgs) exchange(ctx context.Context, client *lookup.Client, servers []netip.AddrPort, req *dns.Msg, tcp bool) (*dns.Msg, lookup.Info, error) {
	if a.tsig == nil {
		return client.ExchangeInfo(ctx, req)
	}
	c := &tsig.Client{Key: a.tsig.key, Now: a.tsig.now, Timeout: a.timeout, TCP: tcp}
	var last error
	var info lookup.Info
	// dig's order: each try walks the servers.
	for range a.tries {
		for _, s := range servers {
			info.Server = s
			r, err := c.ExchangeReply(ctx, s, req)
			if err != nil {
				last = err
				if ctx.Err() != nil {
					return nil, info, err
				}
				continue
			}
			a.tsig.verify = r.Verify
			info = lookup.Info{Server: s, RTT: r.RTT, Size: len(r.Wire), Transport: lookup.Transport(r.Network), TruncatedUDP: r.TruncatedUDP}
			return r.Msg, info, nil
		}
	}
	if last == nil {
		last = errors.New("no servers")
	}
	return nil, info, last
}

// tsigFailure prints dig's first line for a reply that did not verify.
func (p *printer) tsigFailure() {
	t := p.args.tsig
	if t == nil || t.verify == nil || p.args.json {
		return
	}
	fmt.Fprintf(p.w, ";; Couldn't verify signature: %s\n", digTSIGReason(t.verify))
}

// digTSIGReason is dig's wording (BIND's result texts) for why a reply
// did not verify.
func digTSIGReason(err error) string {
	var te *tsig.Error
	switch {
	case !errors.As(err, &te):
		return err.Error()
	case te.Remote:
		return "tsig indicates error"
	case te.Code == 0 && te.Detail == "expected a TSIG in the reply":
		return "expected a TSIG or SIG(0)"
	case te.Code == tsig.BadTime:
		return "clocks are unsynchronized" // BIND's DNS_R_CLOCKSKEW
	case te.Code == 0:
		return te.Detail
	}
	return "tsig verify failure"
}

// tsigWarning is dig's line after the message size when the reply did
// not verify ("" otherwise, so the line stays a blank one).
func (p *printer) tsigWarning() string {
	if t := p.args.tsig; t != nil && t.verify != nil {
		return ";; WARNING -- Some TSIG could not be validated\n"
	}
	return ""
}

// tsigSection prints the reply's TSIG record as dig does, after the
// additional section.
func (p *printer) tsigSection(r *dns.Msg) {
	if len(r.Extra) == 0 {
		return
	}
	t, ok := r.Extra[len(r.Extra)-1].(*dns.TSIG)
	if !ok {
		return
	}
	mac, other := hexBase64(t.MAC), hexBase64(t.OtherData)
	code := dns.RcodeToString[int(t.Error)]
	if code == "" {
		code = fmt.Sprint(t.Error)
	}
	if mac != "" {
		mac = " " + chunk(mac)
	}
	// dig ends the record with the other data after a space, even empty.
	fmt.Fprintln(p.w, ";; TSIG PSEUDOSECTION:")
	fmt.Fprintf(p.w, "%s\t0\tANY\tTSIG\t%s %d %d %d%s %d %s %d %s\n\n", t.Hdr.Name, t.Algorithm, t.TimeSigned, t.Fudge,
		t.MACSize, mac, t.OrigId, code, t.OtherLen, other)
}

// hexBase64 turns miekg/dns's hex text of a field into dig's base64.
func hexBase64(h string) string {
	b, _ := hex.DecodeString(h) // miekg/dns wrote it
	return base64.StdEncoding.EncodeToString(b)
}
