package dnssec

import "testing"

func TestStatusAndEDE(t *testing.T) {
	var zero Result
	if zero.Status != Indeterminate {
		t.Errorf("zero Result is %v, want indeterminate", zero.Status)
	}
	tests := []struct {
		r    Result
		want string
	}{
		{secure(), "secure"},
		{insecure(NoEDE, "no DS at %s", "example."), "insecure: no DS at example."},
		{bogus(EDESignatureExpired, "expired"), "bogus (EDE 7 Signature Expired): expired"},
		{insecure(EDEUnsupportedNSEC3Iter, "x"), "insecure (EDE 27 Unsupported NSEC3 Iterations Value): x"},
		{bogus(EDENSECMissing, "y"), "bogus (EDE 12 NSEC Missing): y"},
	}
	for _, tt := range tests {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("got %q, want %q", got, tt.want)
		}
	}
	// RFC 8914 numbers, which the resolver puts on the wire.
	codes := map[EDE]uint16{EDEUnsupportedDNSKEYAlg: 1, EDEUnsupportedDSDigest: 2, EDEDNSSECBogus: 6,
		EDESignatureExpired: 7, EDESignatureNotYetValid: 8, EDEDNSKEYMissing: 9, EDERRSIGsMissing: 10,
		EDENSECMissing: 12, EDEUnsupportedNSEC3Iter: 27}
	for c, n := range codes {
		if uint16(c) != n {
			t.Errorf("%s = %d, want %d", c, uint16(c), n)
		}
	}
}
