package dnssec

import (
	"fmt"

	"github.com/miekg/dns"
)

// Status is the security status of data (RFC 4033 5, RFC 4035 4.3).
type Status uint8

const (
	// Indeterminate: no trust anchor covers the data, so nothing could be
	// said. The zero value, so that a forgotten result is not "secure".
	Indeterminate Status = iota
	// Secure: an unbroken chain of signed DNSKEY and DS records leads
	// from a trust anchor to the data. Answers get AD.
	Secure
	// Insecure: a chain from a trust anchor proves that the data's zone
	// is unsigned (no DS at the cut), or the chain uses only algorithms
	// or digests this validator does not implement (RFC 4035 5.2, RFC
	// 6840 5.2), or a negative trust anchor covers it (RFC 7646), or an
	// NSEC3 proof is too costly to check (RFC 9276 3.2). Answered
	// without AD.
	Insecure
	// Bogus: a chain should exist but does not verify: SERVFAIL with an
	// Extended DNS Error.
	Bogus
)

func (s Status) String() string {
	switch s {
	case Indeterminate:
		return "indeterminate"
	case Secure:
		return "secure"
	case Insecure:
		return "insecure"
	case Bogus:
		return "bogus"
	}
	return fmt.Sprintf("status(%d)", uint8(s))
}

// EDE is an Extended DNS Error INFO-CODE (RFC 8914 4; IANA registry).
// Only the codes the validator reports are named here.
type EDE uint16

const (
	EDEOther                EDE = 0      // RFC 8914 4.1
	EDEUnsupportedDNSKEYAlg EDE = 1      // 4.2: DNSKEY set with only unsupported algorithms
	EDEUnsupportedDSDigest  EDE = 2      // 4.3: DS set with only unsupported digest types
	EDEDNSSECIndeterminate  EDE = 5      // 4.6
	EDEDNSSECBogus          EDE = 6      // 4.7: the catch-all for a failed validation
	EDESignatureExpired     EDE = 7      // 4.8
	EDESignatureNotYetValid EDE = 8      // 4.9
	EDEDNSKEYMissing        EDE = 9      // 4.10: no DNSKEY matches the DS
	EDERRSIGsMissing        EDE = 10     // 4.11
	EDENoZoneKeyBitSet      EDE = 11     // 4.12
	EDENSECMissing          EDE = 12     // 4.13: no (valid) denial of existence
	EDEUnsupportedNSEC3Iter EDE = 27     // RFC 9276 3.2
	NoEDE                   EDE = 0xffff // sentinel: no code to report (0 is "Other")
)

// String is the RFC 8914 name of the code.
func (e EDE) String() string {
	if e == NoEDE {
		return "none"
	}
	if s, ok := dns.ExtendedErrorCodeToString[uint16(e)]; ok {
		return s
	}
	return fmt.Sprintf("EDE%d", uint16(e))
}

// Result is a validation verdict: the status, the Extended DNS Error code
// that explains it (NoEDE for plain secure or insecure data) and a human
// message, the EXTRA-TEXT the resolver may send with the code.
type Result struct {
	Status Status
	EDE    EDE
	Text   string
}

// secure, insecure and bogus build results.
func secure() Result { return Result{Status: Secure, EDE: NoEDE} }

func insecure(code EDE, format string, args ...any) Result {
	return Result{Status: Insecure, EDE: code, Text: fmt.Sprintf(format, args...)}
}

func bogus(code EDE, format string, args ...any) Result {
	return Result{Status: Bogus, EDE: code, Text: fmt.Sprintf(format, args...)}
}

func (r Result) String() string {
	if r.EDE == NoEDE {
		if r.Text == "" {
			return r.Status.String()
		}
		return r.Status.String() + ": " + r.Text
	}
	return fmt.Sprintf("%s (EDE %d %s): %s", r.Status, uint16(r.EDE), r.EDE, r.Text)
}
