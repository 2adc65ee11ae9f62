package resolver

import (
	"github.com/miekg/dns"

	"github.com/rootline-dns/rootline/internal/dnsname"
)

// Kind is what a scrubbed reply means for the question asked.
type Kind uint8

const (
	KindAnswer     Kind = iota // data for the question (after any chain in the reply)
	KindCNAME                  // a chain whose end the server cannot speak for: restart there
	KindReferral               // a delegation to a zone below the one asked
	KindNXDomain               // the (final) name does not exist
	KindNoData                 // the (final) name exists, without this type
	KindLame                   // the server is not authoritative for the zone it was asked about
	KindServerFail             // SERVFAIL, NOTIMP and other failures
	KindRefused                // REFUSED
	KindFormErr                // FORMERR: maybe it does not speak EDNS
	KindYXDomain               // a DNAME substitution overflowed (RFC 6672 2.2): the answer is YXDOMAIN
)

var kindNames = [...]string{"answer", "cname", "referral", "nxdomain", "nodata", "lame", "servfail", "refused", "formerr", "yxdomain"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// classify decides what a scrubbed reply from a server for zone means for
// the question qname. For a referral it also returns the child zone.
// Pure: no I/O, no state.
func classify(s *scrubbed, zone, qname string) (Kind, string) {
	switch s.rcode {
	case dns.RcodeSuccess, dns.RcodeNameError:
	case dns.RcodeRefused:
		return KindRefused, ""
	case dns.RcodeFormatError:
		return KindFormErr, ""
	case dns.RcodeYXDomain:
		// Only an authoritative server's DNAME synthesis can overflow;
		// anything else saying YXDOMAIN to a query is broken.
		if s.aa && s.overflow {
			return KindYXDomain, ""
		}
		return KindServerFail, ""
	default:
		return KindServerFail, ""
	}
	if s.data {
		return KindAnswer, ""
	}
	if len(s.chain) > 0 && !s.finalIn {
		return KindCNAME, ""
	}
	if s.rcode == dns.RcodeNameError {
		return KindNXDomain, ""
	}
	// A referral names a zone strictly below the one we asked and at or
	// above the name (RFC 1034 4.3.2 step 3b). NS at or above the zone
	// itself without AA is an "upward referral": a lame server.
	var child string
	for _, rr := range s.ns {
		owner := dnsname.Canonical(rr.Header().Name)
		if !dnsname.Equal(owner, zone) && dnsname.IsSubdomain(owner, zone) && dnsname.IsSubdomain(s.final, owner) {
			if child == "" || dnsname.CountLabels(owner) > dnsname.CountLabels(child) {
				child = owner
			}
		}
	}
	if child != "" && !s.aa {
		return KindReferral, child
	}
	if len(s.chain) == 0 && len(s.soa) == 0 && child == "" && s.upward {
		// An empty reply whose authority section refers us to a zone
		// above the one asked (often the root servers), with no SOA: the
		// server does not serve the zone, whatever its AA bit says. It is
		// lame (RFC 1034 4.3.2, RFC 4697 2.4), not a NODATA answer.
		return KindLame, ""
	}
	if child != "" && len(s.soa) == 0 && !s.other {
		// The child's NS set, no SOA, yet AA set: some servers set AA on
		// every reply. Nothing in it is data for the name, so it is a
		// referral all the same (as Unbound follows it), not NODATA; with
		// a chain into the child, the chain is followed from its end.
		if len(s.chain) == 0 {
			return KindReferral, child
		}
		return KindCNAME, ""
	}
	if len(s.chain) == 0 && s.other && child == "" {
		// Records of another type at the name (an A record for an AAAA
		// question): the server speaks for the name, which exists but
		// has no data of this type. NODATA, whatever its AA bit says,
		// as Unbound answers; without an SOA it is not cached (RFC 2308
		// 5).
		return KindNoData, ""
	}
	if len(s.chain) > 0 {
		if s.aa || len(s.soa) > 0 {
			return KindNoData, ""
		}
		return KindCNAME, ""
	}
	if s.aa || len(s.soa) > 0 {
		return KindNoData, ""
	}
	if child != "" {
		return KindReferral, child
	}
	return KindLame, ""
}
