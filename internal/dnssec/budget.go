package dnssec

// Validation budgets: the defences against CPU-exhaustion attacks on
// validators, KeyTrap (CVE-2023-50387: many colliding DNSKEYs times many
// RRSIGs make a naive validator try every pair, RFC 4035 5.3.1 read
// literally) and the NSEC3 closest-encloser attack (CVE-2023-50868: many
// NSEC3 records with many iterations, hashed for every label of a long
// name). Each limit is named, counted and reported, like the resolver's
// query budgets.
//
// Beside each of our values stand those of the two resolvers we compare
// with, after their February 2024 fixes:
//   - Unbound 1.19.1 (release notes, 2024-02-13, and the source it
//     shipped): MAX_VALIDATE_RRSIGS 8 (val_sigcrypt.c), MAX_DS_MATCH_FAILURES
//     4 (val_utils.c), MAX_VALIDATE_AT_ONCE 8 with MAX_VALIDATION_SUSPENDS 16
//     (validator.c), MAX_NSEC3_CALCULATIONS 8 per pass (val_nsec3.c);
//     NSEC3 iterations above val-nsec3-keysize-iterations, default
//     "1024 150 2048 150 4096 150" since 1.13.2, make the answer insecure.
//   - Knot Resolver 5.7.1 (NEWS, 2024-02-13): crypto-validations limited
//     per request (vld_limit_crypto; KR_VLD_LIMIT_CRYPTO_DEFAULT, 32 as we
//     remember lib/defines.h, not checked against a stored copy); NSEC3
//     iteration limit lowered from 150 to 50 with the salt length priced
//     in (kr_nsec3_limited: (iterations+1) SHA-1 blocks above 51 means
//     insecure); SHA-1 work in NSEC3 proofs bounded (kr_nsec3_max_depth
//     = 128 / price); answers with more than 8 NSEC3 records refused.
// Neither bounds DNSKEY or DS set sizes explicitly: there the message size
// (64 KiB) and the verification limits do the work. We add explicit set
// limits because a set over them has no honest use and rejecting it early
// saves even the key parsing.

// Limits are the budgets of one validation (one client query, with the
// chain of trust it needs). The zero value is not useful: start from
// DefaultLimits.
type Limits struct {
	// MaxVerifications bounds signature verifications (public-key
	// operations) per query. Ours 32; Knot Resolver 5.7.1: 32 per
	// request; Unbound 1.19.1: 8 per pass, at most 16 suspensions. An
	// honest chain needs about 2 per zone cut plus 1 per answer RRset and
	// proof record.
	MaxVerifications int
	// MaxSigsPerRRset bounds the RRSIGs tried for one RRset. Ours 8;
	// Unbound 1.19.1 MAX_VALIDATE_RRSIGS 8; Knot Resolver: covered by the
	// per-request limit.
	MaxSigsPerRRset int
	// MaxKeysPerTag bounds the DNSKEYs tried for one RRSIG when several
	// share its key tag and algorithm (the KeyTrap collision set). Ours
	// 4; Unbound 1.19.1: no separate limit (MAX_VALIDATE_RRSIGS counts
	// every attempt); Knot Resolver: the per-request limit. Honest zones
	// almost never have two keys with one tag (1 in 65536 per pair).
	MaxKeysPerTag int
	// MaxDSDigests bounds DS digest computations per DNSKEY set that do
	// not match. Ours 4; Unbound 1.19.1 MAX_DS_MATCH_FAILURES 4.
	MaxDSDigests int
	// MaxDNSKEYs and MaxDS bound the sizes of the sets accepted at all.
	// Ours 32 DNSKEYs and 16 DS; Unbound and Knot Resolver: no explicit
	// limit. The root has had at most 4 keys during a rollover.
	MaxDNSKEYs, MaxDS int
	// MaxNSEC3Iterations: NSEC3 records with more extra iterations make
	// the proof insecure with EDE 27 (RFC 9276 3.2 allows insecure above
	// 0 and sets no number). Ours 50, as Knot Resolver 5.7.1; Unbound
	// 1.19.1: 150.
	MaxNSEC3Iterations int
	// MaxNSEC3Hashes bounds NSEC3 name hashes per query (each of at most
	// MaxNSEC3Iterations+1 SHA-1 rounds). Ours 128: a proof for any
	// legal name (at most 127 labels) fits. Unbound 1.19.1: 8 per pass,
	// suspending between passes; Knot Resolver 5.7.1: 128 / cost per
	// proof.
	MaxNSEC3Hashes int
	// MaxNSEC3Records bounds the NSEC3 records considered in one proof.
	// Ours 8, as Knot Resolver 5.7.1; an honest proof needs at most 3.
	MaxNSEC3Records int
}

// DefaultLimits are the values documented on Limits.
func DefaultLimits() Limits {
	return Limits{
		MaxVerifications:   32,
		MaxSigsPerRRset:    8,
		MaxKeysPerTag:      4,
		MaxDSDigests:       4,
		MaxDNSKEYs:         32,
		MaxDS:              16,
		MaxNSEC3Iterations: 50,
		MaxNSEC3Hashes:     128,
		MaxNSEC3Records:    8,
	}
}

// Budget is the spending of one query against its Limits. It is not
// safe for concurrent use: one query, one Budget. The counters are
// exported for metrics; Exhausted names the first limit that was hit
// ("" if none).
type Budget struct {
	Limits
	Verifications int // public-key signature verifications done
	DSDigests     int // DS digests computed that did not match
	NSEC3Hashes   int // NSEC3 names hashed
	Exhausted     string
	// IgnoreTime skips the signature validity check (RFC 4034 3.1.5)
	// for this query, when the caller knows its clock is wrong (before
	// its time floor: a device without a real-time clock that has not
	// synchronised yet, dnsmasq's --dnssec-no-timecheck). A result
	// reached so proves less than Secure claims: callers must not
	// present it as authenticated.
	IgnoreTime bool
}

// NewBudget starts a query's budget.
func NewBudget(l Limits) *Budget { return &Budget{Limits: l} }

// spend charges one unit to the counter named name, and reports false
// (recording the exhaustion) if the limit was already reached.
func (b *Budget) spend(counter *int, limit int, name string) bool {
	if *counter >= limit {
		if b.Exhausted == "" {
			b.Exhausted = name
		}
		return false
	}
	*counter++
	return true
}

func (b *Budget) verification() bool {
	return b.spend(&b.Verifications, b.MaxVerifications, "signature verifications")
}

func (b *Budget) dsDigest() bool {
	return b.spend(&b.DSDigests, b.MaxDSDigests, "DS digest mismatches")
}

func (b *Budget) nsec3Hash() bool {
	return b.spend(&b.NSEC3Hashes, b.MaxNSEC3Hashes, "NSEC3 hashes")
}

// exhausted is the bogus result for a spent budget. EDE 6 with a text
// that names the limit, so that an operator can tell an attack (or a too
// tight limit) from a broken zone.
func (b *Budget) exhausted(what string) Result {
	return bogus(EDEDNSSECBogus, "%s: validation budget exhausted (%s)", what, b.Exhausted)
}
