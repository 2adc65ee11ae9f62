package dnssec

import (
	"crypto/sha256"
	"sync"
)

// sigMemoMax bounds the signatures one key remembers: 32 bytes each, so a
// key costs at most ~2 KiB more however many signatures it verifies. The
// ones that repeat are few per zone (a wildcard's, the NSEC records near
// popular names); when full the memo starts over, which costs only the
// verifications it would have saved.
const sigMemoMax = 32

// sigMemo remembers the (digest, signature) pairs a key has verified.
// Verification is a pure function of the public key, the digest of the
// signed data and the signature, so a hit is exactly as good as verifying
// again; validity times are checked by the callers every time. It pays off
// where one signature is met again and again: a wildcard RRset expanded
// under each new name (the signed data names the wildcard, RFC 4035
// 5.3.2), and the same NSEC or NSEC3 record proving many names absent.
type sigMemo struct {
	mu   sync.Mutex
	seen map[[32]byte]struct{}
}

// memoKey is SHA-256 over the algorithm's digest of the signed data (the
// data itself for Ed25519, which signs the message, not a hash) and the
// signature: what the verification's outcome depends on besides the key.
func memoKey(digest, data, raw []byte) [32]byte {
	h := sha256.New()
	if digest == nil {
		h.Write(data)
	} else {
		h.Write(digest)
	}
	h.Write(raw)
	var k [32]byte
	h.Sum(k[:0])
	return k
}

func (k *Key) memo() *sigMemo {
	if m := k.verified.Load(); m != nil {
		return m
	}
	k.verified.CompareAndSwap(nil, &sigMemo{seen: make(map[[32]byte]struct{})})
	return k.verified.Load()
}

// known reports whether key was verified before.
func (m *sigMemo) known(key [32]byte) bool {
	m.mu.Lock()
	_, ok := m.seen[key]
	m.mu.Unlock()
	return ok
}

// add remembers a successful verification.
func (m *sigMemo) add(key [32]byte) {
	m.mu.Lock()
	if len(m.seen) >= sigMemoMax {
		clear(m.seen)
	}
	m.seen[key] = struct{}{}
	m.mu.Unlock()
}
