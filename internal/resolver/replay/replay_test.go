package replay

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

var (
	updatePass  = flag.Bool("update", false, "rewrite testdata/pass.txt with the scenarios that pass now")
	oneScenario = flag.String("scenario", "", "TestScenario replays only this file, tracing every exchange")
)

// corpusDir is Unbound's scenarios, shared read-only next to the repository.
func corpusDir(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	repoRoot := filepath.Join(filepath.Dir(file), "..", "..", "..")
	dir := filepath.Join(repoRoot, "..", "shared", "corpora", "rpl", "unbound")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("!!! CORPUS MISSING: %s (%v); the replay scenarios did NOT run", dir, err)
	}
	return dir
}

// TestUnboundScenarios replays every scenario that uses only what the
// replayer maps. Scenarios listed in testdata/pass.txt must pass (a
// regression fails the test); others are counted and reported.
func TestUnboundScenarios(t *testing.T) {
	dir := corpusDir(t)
	files, err := filepath.Glob(filepath.Join(dir, "*.rpl"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no scenarios in %s: %v", dir, err)
	}
	mustPass := readPassList(t)
	why := readFailList(t)
	var unexplained []string
	var passed []string
	skipped, failed, parseErrs := 0, 0, 0
	skipReasons := map[string]int{}
	for _, f := range files {
		name := filepath.Base(f)
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Parse(fh, name)
		fh.Close()
		if err != nil {
			parseErrs++
			t.Logf("parse %s: %v", name, err)
			continue
		}
		if why := s.Skip(); why != "" {
			skipped++
			skipReasons[strings.SplitN(why, " ", 3)[0]+" "+strings.SplitN(why+" ", " ", 3)[1]]++
			continue
		}
		res := s.Run(context.Background())
		if len(res.Failures) == 0 && res.Checks > 0 {
			passed = append(passed, name)
			continue
		}
		failed++
		if why[name] == "" {
			unexplained = append(unexplained, name)
		}
		if mustPass[name] {
			t.Errorf("%s regressed: %s", name, strings.Join(res.Failures, "; "))
		} else if testing.Verbose() {
			t.Logf("%s: %d checks, failures: %s", name, res.Checks, strings.Join(res.Failures, "; "))
		}
	}
	t.Logf("Unbound scenarios: %d files, %d replayed: %d pass, %d fail; %d skipped; %d unparsable", len(files), len(passed)+failed, len(passed), failed, skipped, parseErrs)
	if testing.Verbose() {
		t.Logf("skip reasons: %v", skipReasons)
	}
	if len(unexplained) > 0 {
		t.Logf("failing without a reason in testdata/fail.txt: %s", strings.Join(unexplained, " "))
	}
	for n := range why {
		if slices.Contains(passed, n) {
			t.Logf("%s passes now: drop it from testdata/fail.txt", n)
		}
	}
	if *updatePass {
		if err := os.WriteFile(filepath.Join("testdata", "pass.txt"), []byte(strings.Join(passed, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for n := range mustPass {
		if !slices.Contains(passed, n) && !t.Failed() {
			t.Errorf("%s is in pass.txt but did not run", n)
		}
	}
}

// TestScenario replays one scenario named by -scenario with a trace of
// every upstream exchange: the tool for finding out why one fails.
func TestScenario(t *testing.T) {
	if *oneScenario == "" {
		t.Skip("no -scenario given")
	}
	fh, err := os.Open(filepath.Join(corpusDir(t), *oneScenario))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	s, err := Parse(fh, *oneScenario)
	if err != nil {
		t.Fatal(err)
	}
	if why := s.Skip(); why != "" {
		t.Logf("would be skipped: %s", why)
	}
	res := s.RunTrace(context.Background(), t.Logf)
	t.Logf("%d checks", res.Checks)
	for _, f := range res.Failures {
		t.Error(f)
	}
}

func readPassList(t *testing.T) map[string]bool {
	m := map[string]bool{}
	for _, l := range testdataLines(t, "pass.txt") {
		m[l] = true
	}
	return m
}

// readFailList reads testdata/fail.txt: why each replayed scenario that
// fails does (name, tab, reason; # starts a comment line).
func readFailList(t *testing.T) map[string]string {
	m := map[string]string{}
	for _, l := range testdataLines(t, "fail.txt") {
		if name, reason, ok := strings.Cut(l, "\t"); ok && !strings.HasPrefix(name, "#") {
			m[name] = reason
		}
	}
	return m
}

// testdataLines returns the non-empty lines of a testdata file, none if
// it does not exist.
func testdataLines(t *testing.T, name string) []string {
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(l) != "" {
			out = append(out, strings.TrimRight(l, "\r"))
		}
	}
	return out
}

func FuzzParse(f *testing.F) {
	f.Add([]byte("server:\n\tqname-minimisation: yes\nCONFIG_END\nSCENARIO_BEGIN x\nRANGE_BEGIN 0 10\n\tADDRESS 192.0.2.1\nENTRY_BEGIN\nMATCH opcode qtype qname\nADJUST copy_id\nREPLY QR NOERROR\nSECTION QUESTION\nexample. IN A\nSECTION ANSWER\nexample. IN A 192.0.2.2\nENTRY_END\nRANGE_END\nSTEP 1 QUERY\nENTRY_BEGIN\nREPLY RD\nSECTION QUESTION\nexample. IN A\nENTRY_END\nSTEP 2 CHECK_ANSWER\nENTRY_BEGIN\nMATCH all\nREPLY QR RD RA NOERROR\nSECTION QUESTION\nexample. IN A\nSECTION ANSWER\nexample. IN A 192.0.2.2\nENTRY_END\nSCENARIO_END\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Parse(strings.NewReader(string(b)), "fuzz")
		if err != nil {
			return
		}
		_ = s.Skip()
	})
}
