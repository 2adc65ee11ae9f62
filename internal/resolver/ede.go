package resolver

import (
	"errors"
	"strings"

	"github.com/miekg/dns"
)

// ExtendedError says why a resolution failed with err, as the Extended
// DNS Error (RFC 8914) its SERVFAIL carries: 22 No Reachable Authority
// when the servers did not answer (timeouts, or replies we could not
// use), 23 Network Error when every failed query met a network error, 0
// Other with the budget named when a budget ran out, and the remembered
// failure's own code when the failure was cached (RFC 9520).
func ExtendedError(err error) (uint16, string) {
	var (
		up  *UpstreamError
		bud *BudgetError
		rem *RememberedError
	)
	switch {
	case errors.As(err, &rem):
		return rem.EDE, "recent failure remembered (RFC 9520)"
	case errors.As(err, &up):
		if up.NetErrors > 0 && up.Timeouts == 0 {
			return dns.ExtendedErrorCodeNetworkError, up.Text()
		}
		return dns.ExtendedErrorCodeNoReachableAuthority, up.Text()
	case errors.As(err, &bud):
		return dns.ExtendedErrorCodeOther, bud.Text()
	case errors.Is(err, ErrLoop):
		return dns.ExtendedErrorCodeOther, "loop detected: a CNAME chain or NS dependency leads back to itself"
	case errors.Is(err, ErrNoServers):
		return dns.ExtendedErrorCodeNoReachableAuthority, "no server answered"
	}
	return dns.ExtendedErrorCodeOther, strings.TrimPrefix(err.Error(), "resolver: ")
}
