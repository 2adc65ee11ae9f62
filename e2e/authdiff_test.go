package e2e

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/rootline-dns/rootline/internal/peers"
)

// maxShownDiffs is how many disagreements a failure prints in full: enough
// to see the pattern, few enough to read.
const maxShownDiffs = 20

// answers is one server's normalised outcome for every query, in both the
// case-folded and the exact form.
type answers struct {
	folded, exact []string
}

// silentTries is how often a UDP query that met silence is sent.
const silentTries = 3

// ask sends every query to addr (UDP or TCP as the query says) and
// normalises the outcomes. A transport error (the server vanished) fails
// the test: silence within the wait is an answer, a refused socket is not.
func ask(t *testing.T, name string, addr netip.AddrPort, qs []query) answers {
	a := answers{folded: make([]string, len(qs)), exact: make([]string, len(qs))}
	for i, q := range qs {
		var (
			o   outcome
			err error
		)
		if q.tcp {
			o, err = exchangeTCP(addr, q.wire)
		} else {
			// A datagram lost or late on a loaded machine must not read
			// as a server's choice to drop: silence counts only when it
			// repeats (a server that drops a query drops it every time).
			for try := 0; try < silentTries; try++ {
				if o, err = exchangeUDP(addr, q.wire); err != nil || !o.silent {
					break
				}
			}
		}
		if err != nil {
			t.Errorf("%s: query %q: %v", name, q.label, err)
			return a
		}
		var id uint16
		if len(q.wire) >= 2 {
			id = binary.BigEndian.Uint16(q.wire)
		}
		a.folded[i] = normalize(o, id, true)
		a.exact[i] = normalize(o, id, false)
	}
	return a
}

// askAll queries the servers concurrently (one goroutine each; every
// server sees the queries in the same order).
func askAll(t *testing.T, servers []*peers.Server, qs []query) []answers {
	out := make([]answers, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() { out[i] = ask(t, s.Name, s.Addrs[0], qs) })
	}
	wg.Wait()
	return out
}

// groupCount holds per-group agreement figures.
type groupCount struct{ total, peersAgree, oursAgree int }

// TestAuthDifferential serves the same zones from NSD, Knot and rootline,
// sends every generated query to all three, and requires rootline to give
// the same normalised answer wherever NSD and Knot give the same one.
func TestAuthDifferential(t *testing.T) {
	qs := generateQueries(t)
	zones := peerZones(t)
	lo := []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:0")}
	nsd := peers.StartNSD(t, lo, zones)
	knot := peers.StartKnot(t, lo, zones)

	// NSD against Knot first: this part stands on its own even when the
	// rootline binary cannot be built or started.
	got := askAll(t, []*peers.Server{nsd, knot}, qs)
	if t.Failed() {
		return
	}
	nsdA, knotA := got[0], got[1]
	groups := map[string]*groupCount{}
	var order []string
	agree := make([]bool, len(qs))
	var peerDiffs []disagreement
	nAgree := 0
	for i, q := range qs {
		g := groups[q.group]
		if g == nil {
			g = &groupCount{}
			groups[q.group] = g
			order = append(order, q.group)
		}
		g.total++
		if nsdA.folded[i] == knotA.folded[i] {
			agree[i] = true
			g.peersAgree++
			nAgree++
		} else {
			d := lineDiff(nsdA.folded[i], knotA.folded[i])
			peerDiffs = append(peerDiffs, disagreement{label: q.label, diff: d, kind: diffKind(d)})
		}
	}
	t.Logf("queries: %d; NSD and Knot agree on %d (%.1f%%), differ on %d", len(qs), nAgree, pct(nAgree, len(qs)), len(qs)-nAgree)
	if path := os.Getenv("ROOTLINE_E2E_REPORT"); path != "" {
		writeReport(t, path, qs, nsdA, knotA)
	}
	if len(peerDiffs) > 0 {
		// Figure only, not a failure: where the references differ, any
		// answer from rootline is accepted. With -v, one example of each
		// kind ("-" NSD, "+" Knot).
		if testing.Verbose() {
			t.Logf("NSD (-) and Knot (+) differ:\n%s", summarize(peerDiffs))
		} else {
			t.Logf("NSD and Knot differ in %d kinds of way (run with -v for examples)", len(kindsOf(peerDiffs)))
		}
	}

	ours := startRootline(t)
	oursA := askAll(t, []*peers.Server{ours}, qs)[0]
	if t.Failed() {
		return
	}
	if ours.Exited() {
		t.Fatalf("rootline exited while being queried:\n%s", ours.LogTail())
	}
	var diffs []disagreement
	match, caseDiff, fitted := 0, 0, 0
	var caseExamples []string
	for i, q := range qs {
		if !agree[i] {
			continue
		}
		if oursA.folded[i] != nsdA.folded[i] && fitsWhatPeersTruncated(nsdA.folded[i], oursA.folded[i]) {
			fitted++
			match++
			groups[q.group].oursAgree++
			continue
		}
		if oursA.folded[i] != nsdA.folded[i] {
			d := lineDiff(nsdA.folded[i], oursA.folded[i])
			diffs = append(diffs, disagreement{label: q.label, diff: d, kind: diffKind(d)})
			continue
		}
		match++
		groups[q.group].oursAgree++
		// Same answer up to case: record case differences apart.
		if nsdA.exact[i] == knotA.exact[i] && oursA.exact[i] != nsdA.exact[i] {
			caseDiff++
			if len(caseExamples) < 5 {
				caseExamples = append(caseExamples, fmt.Sprintf("  %s\n%s", q.label, lineDiff(nsdA.exact[i], oursA.exact[i])))
			}
		}
	}
	t.Logf("rootline matches NSD and Knot on %d of the %d queries where they agree (%.2f%%); %d differ",
		match, nAgree, pct(match, nAgree), len(diffs))
	if fitted > 0 {
		t.Logf("%d answers fit without TC where NSD and Knot truncate (better name compression); counted as matching", fitted)
	}
	var rows []string
	for _, name := range order {
		g := groups[name]
		rows = append(rows, fmt.Sprintf("  %-12s %5d queries, peers agree %5d, rootline matches %5d (%.2f%%)",
			name, g.total, g.peersAgree, g.oursAgree, pct(g.oursAgree, g.peersAgree)))
	}
	t.Logf("by group:\n%s", strings.Join(rows, "\n"))
	if caseDiff > 0 {
		t.Logf("case differences only (name case differs from NSD and Knot's, same answer otherwise): %d, e.g.:\n%s",
			caseDiff, strings.Join(caseExamples, "\n"))
	}
	if path := os.Getenv("ROOTLINE_E2E_REPORT"); path != "" && len(diffs) > 0 {
		var b strings.Builder
		for _, d := range diffs {
			fmt.Fprintf(&b, "=== [%s] %s\n%s", d.kind, d.label, d.diff)
		}
		if err := os.WriteFile(path+".rootline", []byte(b.String()), 0o644); err != nil {
			t.Errorf("report: %v", err)
		}
	}
	if len(diffs) > 0 {
		t.Errorf("rootline disagrees with NSD and Knot on %d queries (\"-\" NSD and Knot, \"+\" rootline).\n%s", len(diffs), summarize(diffs))
	}
}

// disagreement is one query where rootline differs from NSD and Knot.
type disagreement struct{ label, diff, kind string }

// diffKind reduces a diff to its shape: which sections and record types
// are missing (-) or extra (+), without names or data, so that one fault
// showing up on hundreds of names reads as one line.
func diffKind(diff string) string {
	var parts []string
	for _, l := range strings.Split(diff, "\n") {
		l = strings.TrimSpace(l)
		if len(l) < 2 || (l[0] != '-' && l[0] != '+') {
			continue
		}
		f := strings.Fields(l[1:])
		k := l[:1] + f[0]
		switch f[0] {
		case "AN", "NS", "AR":
			if len(f) > 4 {
				k += "/" + f[4]
			}
		case "QUERY", "NOTIFY", "UPDATE", "IQUERY", "STATUS":
			if len(f) > 1 {
				k += "/" + strings.Join(f[1:], "/")
			}
		}
		if !slices.Contains(parts, k) {
			parts = append(parts, k)
		}
	}
	return strings.Join(parts, " ")
}

// summarize groups disagreements by kind, most frequent first, and shows
// one full example of each, up to maxShownDiffs kinds.
func summarize(diffs []disagreement) string {
	byKind := kindsOf(diffs)
	kinds := make([]string, 0, len(byKind))
	for _, d := range diffs {
		if !slices.Contains(kinds, d.kind) {
			kinds = append(kinds, d.kind)
		}
	}
	slices.SortStableFunc(kinds, func(a, b string) int { return len(byKind[b]) - len(byKind[a]) })
	var b strings.Builder
	fmt.Fprintf(&b, "%d kinds of difference; one example of each:\n", len(kinds))
	for i, k := range kinds {
		if i == maxShownDiffs {
			fmt.Fprintf(&b, "... %d more kinds (set ROOTLINE_E2E_REPORT=FILE for every query)\n", len(kinds)-maxShownDiffs)
			break
		}
		ex := byKind[k][0]
		fmt.Fprintf(&b, "\n[%d queries] %s\n  e.g. %s\n%s", len(byKind[k]), k, ex.label, ex.diff)
	}
	return b.String()
}

func pct(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return 100 * float64(n) / float64(of)
}

// writeReport writes every query with NSD's and Knot's normalised answers,
// for reading the differences at leisure.
func writeReport(t *testing.T, path string, qs []query, nsdA, knotA answers) {
	var b strings.Builder
	for i, q := range qs {
		state := "AGREE"
		if nsdA.folded[i] != knotA.folded[i] {
			state = "DIFFER"
		}
		fmt.Fprintf(&b, "=== %s [%s] %s\n", state, q.group, q.label)
		if state == "AGREE" {
			b.WriteString(nsdA.folded[i])
		} else {
			b.WriteString(lineDiff(nsdA.folded[i], knotA.folded[i]))
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Errorf("report: %v", err)
	}
}

// kindsOf groups disagreements by kind.
func kindsOf(diffs []disagreement) map[string][]disagreement {
	m := map[string][]disagreement{}
	for _, d := range diffs {
		m[d.kind] = append(m[d.kind], d)
	}
	return m
}

// fitsWhatPeersTruncated accepts one kind of difference: the peers set TC
// and sent part of the answer, while rootline's better name compression
// (pointers into DNAME targets, say) fits the whole answer without TC.
// Everything the peers sent must be in ours, with the same header otherwise.
func fitsWhatPeersTruncated(peer, ours string) bool {
	pl, ol := strings.Split(peer, "\n"), strings.Split(ours, "\n")
	if len(pl) == 0 || len(ol) == 0 || !strings.Contains(pl[0], ",tc") {
		return false
	}
	if strings.Replace(strings.Replace(pl[0], ",tc", "", 1), "tc,", "", 1) != ol[0] {
		return false
	}
	have := make(map[string]bool, len(ol))
	for _, l := range ol[1:] {
		have[l] = true
	}
	for _, l := range pl[1:] {
		if !have[l] {
			return false
		}
	}
	return true
}
