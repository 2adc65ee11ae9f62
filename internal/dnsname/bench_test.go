package dnsname

import "testing"

// The per-query name operations, on a name as a reply carries it and on
// one with an escape; run with -benchmem: every one should be 0 allocs/op.

var (
	benchName = "www.example.test."
	benchUp   = "WWW.Example.Test."
	benchEsc  = `a\.b.www.example.test.`
	sinkBool  bool
	sinkStr   string
	sinkInt   int
)

func BenchmarkCanonical(b *testing.B) {
	for _, n := range []string{benchName, benchEsc} {
		b.Run(n, func(b *testing.B) {
			for b.Loop() {
				sinkStr = Canonical(n)
			}
		})
	}
}

func BenchmarkEqual(b *testing.B) {
	for b.Loop() {
		sinkBool = Equal(benchName, benchUp)
	}
}

func BenchmarkIsSubdomain(b *testing.B) {
	b.Run("plain", func(b *testing.B) {
		for b.Loop() {
			sinkBool = IsSubdomain(benchName, "example.test.")
		}
	})
	b.Run("escaped", func(b *testing.B) {
		for b.Loop() {
			sinkBool = IsSubdomain(benchEsc, "example.test.")
		}
	})
}

func BenchmarkParentWalk(b *testing.B) {
	for b.Loop() {
		for p, ok := Parent(benchEsc); ok; p, ok = Parent(p) {
			sinkStr = p
		}
	}
}

func BenchmarkCountLabels(b *testing.B) {
	for b.Loop() {
		sinkInt = CountLabels(benchEsc)
	}
}

func BenchmarkAppendCanonicalWire(b *testing.B) {
	var buf [MaxNameLen]byte
	for b.Loop() {
		w, _ := AppendCanonicalWire(buf[:0], benchUp)
		sinkInt = len(w)
	}
}

func BenchmarkCompare(b *testing.B) {
	for b.Loop() {
		sinkInt = Compare(benchName, benchEsc)
	}
}
