package lab

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// chromiumTimeout bounds one headless run: start, load, the explain
// request (a cold resolution in the lab takes milliseconds) and the
// dump or screenshot.
const chromiumTimeout = 90 * time.Second

// findChromium finds Debian's chromium; without it the test is skipped
// loudly, except in CI (CI=true), where .ci/run installs it.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is required in CI (apt-get install chromium)")
	}
	t.Skip("!!! SKIPPING: chromium not installed (apt-get install chromium); this test loads the web page in a real browser")
	return ""
}

// headless runs chromium headless on url with extra arguments and
// returns its standard output. --virtual-time-budget lets the page's
// fetches finish before the DOM is dumped or the screenshot taken.
func headless(t *testing.T, bin, url string, extra ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), chromiumTimeout)
	defer cancel()
	args := append([]string{"--headless", "--disable-gpu", "--no-sandbox", "--user-data-dir=" + t.TempDir(),
		"--virtual-time-budget=10000", "--hide-scrollbars"}, extra...)
	cmd := exec.CommandContext(ctx, bin, append(args, url)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	// A private HOME: chromium writes caches and crash reports there.
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir())
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(extra, " "), err, stderr.Bytes())
	}
	return stdout.Bytes()
}

var (
	pathList = regexp.MustCompile(`(?s)<ol class="path" id="path">(.*?)</ol>`)
	hop      = regexp.MustCompile(`<li class="hop[^"]*" data-zone="([^"]*)" data-purpose="([^"]*)"`)
)

// The page in a real browser: opened with ?name=, it resolves the name
// through the explain endpoint and draws the walk root -> com. ->
// example.com. with the DNSSEC chain; a screenshot of a cold lookup is
// saved under the test's output (ROOTLINE_SCREENSHOT_DIR, or the
// artifact directory: go test -artifacts keeps it).
func TestWebPageInChromium(t *testing.T) {
	bin := findChromium(t)

	_, base := startWebLab(t, Options{})
	dom := headless(t, bin, base+"/?name=www.example.com", "--dump-dom")
	m := pathList.FindSubmatch(dom)
	if m == nil {
		t.Fatalf("no drawn path in the page:\n%s", dom)
	}
	var zones []string
	for _, h := range hop.FindAllSubmatch(m[1], -1) {
		if len(h[2]) == 0 { // the question's own walk, not priming or the DNSSEC chain's queries
			zones = append(zones, string(h[1]))
		}
	}
	if want := []string{".", "com.", "example.com."}; !slices.Equal(zones, want) {
		t.Errorf("drawn path %q, want %q", zones, want)
	}
	for _, want := range []string{`id="source">resolved<`, `id="rcode">NOERROR<`, `data-security="secure"`, `data-outcome="referral"`, `data-outcome="answer"`} {
		if !bytes.Contains(dom, []byte(want)) {
			t.Errorf("page lacks %s", want)
		}
	}

	// A fresh lab for the screenshot, so it shows a cold walk too.
	_, base = startWebLab(t, Options{})
	dir := os.Getenv("ROOTLINE_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.ArtifactDir()
	}
	shot := filepath.Join(dir, "web.png")
	headless(t, bin, base+"/?name=www.example.com", "--window-size=900,1350", "--screenshot="+shot)
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || len(b) < 10<<10 {
		t.Fatalf("%s: not a screenshot (%d bytes)", shot, len(b))
	}
	t.Logf("screenshot: %s (%d bytes)", shot, len(b))
}
