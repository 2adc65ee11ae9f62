package lookup

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// outcomeZone has, for each lookup function, a name that exists without
// the records it asks for (NODATA) beside names that do not exist at all.
const outcomeZone = `
$TTL 300
@	SOA ns.test. admin.test. 1 3600 600 86400 60
v4only	A 192.0.2.2
v6only	AAAA 2001:db8::2
mxonly	MX 10 mail.test.
2.2.0.192.in-addr.arpa.	TXT "a reverse name without PTR"
`

// lookupFunc runs one lookup function for name (an address for
// LookupAddr) and returns its error.
type lookupFunc struct {
	name             string
	nxdomain, nodata string // names that give NXDOMAIN and NODATA
	run              func(ctx context.Context, c *Client, name string) error
}

var lookupFuncs = []lookupFunc{
	{"LookupHost", "nonexistent.test.", "mxonly.test.", func(ctx context.Context, c *Client, n string) error {
		_, err := c.LookupHost(ctx, n)
		return err
	}},
	{"LookupNetIP ip", "nonexistent.test.", "mxonly.test.", func(ctx context.Context, c *Client, n string) error {
		_, err := c.LookupNetIP(ctx, "ip", n)
		return err
	}},
	{"LookupNetIP ip4", "nonexistent.test.", "v6only.test.", func(ctx context.Context, c *Client, n string) error {
		_, err := c.LookupNetIP(ctx, "ip4", n)
		return err
	}},
	{"LookupNetIP ip6", "nonexistent.test.", "v4only.test.", func(ctx context.Context, c *Client, n string) error {
		_, err := c.LookupNetIP(ctx, "ip6", n)
		return err
	}},
	{"LookupAddr", "192.0.2.200", "192.0.2.2", func(ctx context.Context, c *Client, n string) error {
		_, err := c.LookupAddr(ctx, netip.MustParseAddr(n))
		return err
	}},
	{"LookupMX", "nonexistent.test.", "v4only.test.", func(ctx context.Context, c *Client, n string) error {
		_, err := c.LookupMX(ctx, n)
		return err
	}},
	{"LookupTXT", "nonexistent.test.", "v4only.test.", func(ctx context.Context, c *Client, n string) error {
		_, err := c.LookupTXT(ctx, n)
		return err
	}},
	{"LookupNS", "nonexistent.test.", "v4only.test.", func(ctx context.Context, c *Client, n string) error {
		_, err := c.LookupNS(ctx, n)
		return err
	}},
	{"LookupSRV", "nonexistent.test.", "v4only.test.", func(ctx context.Context, c *Client, n string) error {
		_, _, err := c.LookupSRV(ctx, "", "", n)
		return err
	}},
}

// TestLookupOutcomes: every lookup function reports NXDOMAIN, NODATA,
// SERVFAIL and timeouts the same way, as net.DNSError does: not found
// (with ErrNotFound and RCODE 3, or ErrNoData and RCODE 0), a temporary
// server failure with its RCODE, or a timeout.
func TestLookupOutcomes(t *testing.T) {
	type want struct {
		reason                       error // errors.Is(err, reason)
		rcode                        int
		notFound, temporary, timeout bool
	}
	outcomes := []struct {
		name string
		mode string // the fake servers' behaviour
		pick func(f lookupFunc) string
		want want
	}{
		{"NXDOMAIN", "", func(f lookupFunc) string { return f.nxdomain }, want{ErrNotFound, dns.RcodeNameError, true, false, false}},
		{"NODATA", "", func(f lookupFunc) string { return f.nodata }, want{ErrNoData, dns.RcodeSuccess, true, false, false}},
		{"SERVFAIL", "servfail", func(f lookupFunc) string { return f.nodata }, want{ErrServerFailure, dns.RcodeServerFailure, false, true, false}},
		{"timeout", "timeout", func(f lookupFunc) string { return f.nodata }, want{nil, -1, false, true, true}},
	}
	for _, fn := range lookupFuncs {
		for _, o := range outcomes {
			t.Run(fn.name+"/"+o.name, func(t *testing.T) {
				f := newFakeNet(t, outcomeZone)
				f.mode[srv1], f.mode[srv2] = o.mode, o.mode
				c := newTestClient(t, f, &Config{Servers: []netip.AddrPort{srv1, srv2}, Timeout: time.Second, Attempts: 1}, "")
				name := o.pick(fn)
				err := fn.run(context.Background(), c, name)
				var e *Error
				if !errors.As(err, &e) {
					t.Fatalf("err = %v (%T), want *Error", err, err)
				}
				w := o.want
				if e.Rcode != w.rcode || IsNotFound(err) != w.notFound || e.Temporary() != w.temporary || e.Timeout() != w.timeout ||
					(w.reason != nil && !errors.Is(err, w.reason)) {
					t.Errorf("%s(%s) = %q: RCODE %d, not found %v, temporary %v, timeout %v; want %q, RCODE %d, not found %v, temporary %v, timeout %v",
						fn.name, name, err, e.Rcode, IsNotFound(err), e.Temporary(), e.Timeout(), w.reason, w.rcode, w.notFound, w.temporary, w.timeout)
				}
			})
		}
	}
}

// TestExchangeOutcomes: Exchange returns whatever reply came, NXDOMAIN,
// NODATA and SERVFAIL alike, and an error only when none came.
func TestExchangeOutcomes(t *testing.T) {
	tests := []struct {
		mode, name string
		rcode      int
		answers    int
		timeout    bool
	}{
		{"", "nonexistent.test.", dns.RcodeNameError, 0, false},
		{"", "mxonly.test.", dns.RcodeSuccess, 0, false},
		{"", "v4only.test.", dns.RcodeSuccess, 1, false},
		{"servfail", "v4only.test.", dns.RcodeServerFailure, 0, false},
		{"timeout", "v4only.test.", -1, 0, true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %s", tc.mode, tc.name), func(t *testing.T) {
			f := newFakeNet(t, outcomeZone)
			f.mode[srv1] = tc.mode
			c := newTestClient(t, f, &Config{Servers: []netip.AddrPort{srv1}, Timeout: time.Second, Attempts: 1}, "")
			req := new(dns.Msg)
			req.SetQuestion(tc.name, dns.TypeA)
			r, from, err := c.Exchange(context.Background(), req)
			if tc.timeout {
				var e *Error
				if !errors.As(err, &e) || !e.Timeout() || e.Server != srv1 || r != nil {
					t.Errorf("Exchange = %v, %v; want a timeout from %s", r, err, srv1)
				}
				return
			}
			if err != nil || from != srv1 || r.Rcode != tc.rcode || len(r.Answer) != tc.answers {
				t.Errorf("Exchange = %v from %s, %v; want RCODE %d with %d answers", r, from, err, tc.rcode, tc.answers)
			}
		})
	}
}
