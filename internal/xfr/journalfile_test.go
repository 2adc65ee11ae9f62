package xfr

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/miekg/dns"
)

// testDiff is a diff from serial from to to that deletes one record and
// adds n.
func testDiff(t testing.TB, from, to uint32, n int) Diff {
	d := Diff{From: soa(from), To: soa(to)}
	d.Deleted = append(d.Deleted, mustRR(t, fmt.Sprintf("old%d.x.test. 300 IN TXT \"gone in %d\"", from, to)))
	for i := range n {
		d.Added = append(d.Added, mustRR(t, fmt.Sprintf("n%d-%d.x.test. 300 IN A 192.0.2.%d", to, i, i%250)))
	}
	return d
}

// serials is the journal's history as (from, to) pairs.
func serials(j *Journal) [][2]uint32 {
	j.mu.Lock()
	defer j.mu.Unlock()
	var out [][2]uint32
	for _, d := range j.diffs {
		out = append(out, [2]uint32{d.From.Serial, d.To.Serial})
	}
	return out
}

func sameHistory(t *testing.T, what string, got, want *Journal) {
	t.Helper()
	if g, w := fmt.Sprint(serials(got)), fmt.Sprint(serials(want)); g != w {
		t.Fatalf("%s: history %s, want %s", what, g, w)
	}
	got.mu.Lock()
	want.mu.Lock()
	defer got.mu.Unlock()
	defer want.mu.Unlock()
	for i := range got.diffs {
		g, w := got.diffs[i], want.diffs[i]
		if len(g.Added) != len(w.Added) || len(g.Deleted) != len(w.Deleted) {
			t.Fatalf("%s: diff %d has %d/%d records, want %d/%d", what, i, len(g.Deleted), len(g.Added), len(w.Deleted), len(w.Added))
		}
		for k := range g.Added {
			if !dns.IsDuplicate(g.Added[k], w.Added[k]) {
				t.Fatalf("%s: diff %d record %d: %v, want %v", what, i, k, g.Added[k], w.Added[k])
			}
		}
	}
}

// TestJournalFile: a file-backed journal reads back what was added, after
// appends, drops by the bounds, a restarted history and a Reset, and
// always agrees with an in-memory journal given the same diffs.
func TestJournalFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "z.jnl")
	mem := NewJournal(3, 40)
	j, torn, err := OpenJournal(path, 3, 40)
	if err != nil || torn != 0 {
		t.Fatal(err, torn)
	}
	step := func(what string, f func(j *Journal) error) {
		t.Helper()
		if err := f(mem); err != nil {
			t.Fatal(err)
		}
		if err := f(j); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		sameHistory(t, what, j, mem)
		back, torn, err := OpenJournal(path, 3, 40)
		if err != nil || torn != 0 {
			t.Fatalf("%s: reopen: %v (torn %d)", what, err, torn)
		}
		defer back.Close()
		sameHistory(t, what+", read back", back, mem)
	}
	for s := uint32(1); s <= 6; s++ {
		step(fmt.Sprintf("add %d->%d", s, s+1), func(j *Journal) error { return j.Add(testDiff(t, s, s+1, 3)) })
	}
	step("a diff over the record bound alone", func(j *Journal) error { return j.Add(testDiff(t, 7, 8, 50)) })
	step("after it", func(j *Journal) error { return j.Add(testDiff(t, 8, 9, 2)) })
	step("out of sequence", func(j *Journal) error { return j.Add(testDiff(t, 20, 21, 2)) })
	step("continued", func(j *Journal) error { return j.Add(testDiff(t, 21, 22, 2)) })
	step("reset", func(j *Journal) error { return j.Reset() })
	step("after reset", func(j *Journal) error { return j.Add(testDiff(t, 30, 31, 1)) })
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestJournalTornTail: a crash at any byte of the last append leaves a
// journal that reads back as the versions before it, cuts the torn bytes
// off, and takes the next append.
func TestJournalTornTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "z.jnl")
	j, _, err := OpenJournal(path, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	for s := uint32(1); s <= 3; s++ {
		if err := j.Add(testDiff(t, s, s+1, 4)); err != nil {
			t.Fatal(err)
		}
	}
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Add(testDiff(t, 4, 5, 4)); err != nil {
		t.Fatal(err)
	}
	j.Close()
	full, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for cut := len(whole); cut < len(full); cut++ {
		p := filepath.Join(dir, fmt.Sprintf("cut%d.jnl", cut))
		if err := os.WriteFile(p, full[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		back, torn, err := OpenJournal(p, 0, 0)
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if got := fmt.Sprint(serials(back)); got != "[[1 2] [2 3] [3 4]]" || torn != int64(cut-len(whole)) {
			t.Fatalf("cut at %d: history %s, torn %d", cut, got, torn)
		}
		if err := back.Add(testDiff(t, 4, 5, 1)); err != nil {
			t.Fatal(err)
		}
		back.Close()
		again, torn, err := OpenJournal(p, 0, 0)
		if err != nil || torn != 0 || fmt.Sprint(serials(again)) != "[[1 2] [2 3] [3 4] [4 5]]" {
			t.Fatalf("cut at %d, appended after: %v torn %d %v", cut, serials(again), torn, err)
		}
		again.Close()
	}
	// A flipped bit in the last entry is caught by its checksum.
	bad := append([]byte(nil), full...)
	bad[len(bad)-3] ^= 0x40
	p := filepath.Join(dir, "flipped.jnl")
	if err := os.WriteFile(p, bad, 0o600); err != nil {
		t.Fatal(err)
	}
	back, _, err := OpenJournal(p, 0, 0)
	if err != nil || fmt.Sprint(serials(back)) != "[[1 2] [2 3] [3 4]]" {
		t.Fatalf("flipped bit: %v %v", serials(back), err)
	}
	back.Close()
}

func TestStoreFileName(t *testing.T) {
	for in, want := range map[string]string{
		".":              "@",
		"Example.COM.":   "example.com",
		"../../etc.":     "%2E%2E/%2E%2E/etc", // unreachable by a real origin, escaped anyway
		"a/b.test.":      "a%2Fb.test",
		"_tcp.x.":        "_tcp.x",
		"\\@weird.test.": "%5C%40weird.test",
	} {
		got := fileName(in)
		if in == "../../etc." {
			// Canonical keeps the name as given; what matters is that
			// no separator survives.
			if filepath.Base(got) != got {
				t.Errorf("fileName(%q) = %q: a path", in, got)
			}
			continue
		}
		if got != want {
			t.Errorf("fileName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzJournalFile(f *testing.F) {
	dir := f.TempDir()
	p := filepath.Join(dir, "seed.jnl")
	j, _, err := OpenJournal(p, 0, 0)
	if err != nil {
		f.Fatal(err)
	}
	_ = j.Add(testDiff(f, 1, 2, 2))
	_ = j.Add(testDiff(f, 2, 3, 1))
	j.Close()
	seed, _ := os.ReadFile(p)
	f.Add(seed)
	f.Add([]byte{0, 0, 0, 4, 0, 0, 0, 0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "f.jnl")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		j, torn, err := OpenJournal(p, 0, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer j.Close()
		if torn < 0 || torn > int64(len(b)) {
			t.Fatalf("torn %d of %d bytes", torn, len(b))
		}
		// Whatever was kept is a valid history that survives a rewrite.
		if err := j.Reset(); err != nil {
			t.Fatal(err)
		}
	})
}

// TestSecondaryStore: a secondary with a Store serves its copy when it
// starts again, with the EXPIRE clock running from the last time a
// primary confirmed it, across restarts; an expired copy is neither
// served nor kept.
func TestSecondaryStore(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		st, err := OpenStore(dir)
		if err != nil {
			t.Fatal(err)
		}
		primary := netip.MustParseAddrPort("127.0.0.1:5300")
		p := &fakePrimary{t: t, serial: 7}
		run := func() (*Secondary, context.CancelFunc, chan struct{}) {
			s := NewSecondary(SecondaryOptions{
				Zones:     []SecondaryZone{{Origin: testOrigin, Primaries: []Remote{{Addr: primary}}}},
				Exchanger: p, Transfer: p.transfer, Store: st,
			})
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { s.Run(ctx); close(done) }()
			synctest.Wait()
			return s, cancel, done
		}
		serving := func(s *Secondary) uint32 {
			synctest.Wait()
			if z := s.Zone(testOrigin); z != nil {
				return z.SOA.Serial
			}
			return 0
		}
		s, stop, done := run()
		if got := serving(s); got != 7 || len(p.transfers) != 1 {
			t.Fatalf("first start: serving %d after %d transfers", got, len(p.transfers))
		}
		stop()
		<-done

		// Restart an hour later with the primary down: the copy is served.
		p.set(func(p *fakePrimary) { p.down = true })
		time.Sleep(time.Hour)
		s, stop, done = run()
		if got := serving(s); got != 7 {
			t.Fatalf("restart with the primary down: serving %d, want 7 from the copy", got)
		}
		// EXPIRE (86400 s in the test zone) counts from the last
		// confirmation, before the restart.
		time.Sleep(23*time.Hour - time.Minute)
		if got := serving(s); got != 7 {
			t.Fatalf("before EXPIRE: serving %d", got)
		}
		time.Sleep(20 * time.Minute)
		if got := serving(s); got != 0 {
			t.Fatalf("after EXPIRE: still serving %d", got)
		}
		stop()
		<-done
		if _, _, err := st.LoadSecondary(testOrigin, 0); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("expired copy kept: %v", err)
		}

		// The primary back: transferred anew (AXFR), saved again.
		p.set(func(p *fakePrimary) { p.down = false; p.serial = 8 })
		s, stop, done = run()
		if got := serving(s); got != 8 || p.transfers[len(p.transfers)-1] != 0 {
			t.Fatalf("primary back: serving %d, last transfer from %d", got, p.transfers[len(p.transfers)-1])
		}
		stop()
		<-done
		if z, state, err := st.LoadSecondary(testOrigin, 0); err != nil || z.SOA.Serial != 8 || state.Serial != 8 {
			t.Fatalf("copy after the new transfer: %v %+v %v", z, state, err)
		}
	})
}
