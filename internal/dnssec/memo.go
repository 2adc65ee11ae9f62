package dnssec

import (
	"crypto/sha256"
	"sync"
)

// sigMemoMax bounds the signatures one key remembers. Each entry holds a
// digest and a signature (at most a few hundred bytes); when full the memo
// starts over, which costs only the verifications it would have saved.
const sigMemoMax = 1024

// sigMemo remembers the (digest, signature) pairs a key has verified.
// Verification is a pure function of the public key, the digest of the
// signed data and the signature, so a hit is exactly as good as verifying
// again; validity times are checked by the callers every time. It pays off
// where one signature is met again and again: a wildcard RRset expanded
// under each new name (the signed data names the wildcard, RFC 4035
// 5.3.2), and the same NSEC or NSEC3 record proving many names absent.
type sigMemo struct {
	mu   sync.Mutex
	seen map[string]struct{}
}

// memoKey appends the memo key for a verification of raw over data whose
// algorithm digest is digest (nil for Ed25519, which signs the data
// itself: its key uses SHA-256 of the data instead).
func memoKey(dst, digest, data, raw []byte) []byte {
	if digest == nil {
		s := sha256.Sum256(data)
		dst = append(dst, s[:]...)
	} else {
		dst = append(dst, digest...)
	}
	dst = append(dst, byte(len(raw)>>8), byte(len(raw)))
	return append(dst, raw...)
}

func (k *Key) memo() *sigMemo {
	if m := k.verified.Load(); m != nil {
		return m
	}
	k.verified.CompareAndSwap(nil, &sigMemo{seen: make(map[string]struct{})})
	return k.verified.Load()
}

// known reports whether key was verified before.
func (m *sigMemo) known(key []byte) bool {
	m.mu.Lock()
	_, ok := m.seen[string(key)]
	m.mu.Unlock()
	return ok
}

// add remembers a successful verification.
func (m *sigMemo) add(key []byte) {
	m.mu.Lock()
	if len(m.seen) >= sigMemoMax {
		clear(m.seen)
	}
	m.seen[string(key)] = struct{}{}
	m.mu.Unlock()
}
