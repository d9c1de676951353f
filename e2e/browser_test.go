package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// chromiumAndNode returns Debian's chromium and a node that has WebSocket
// (node ≥ 20.10 with --experimental-websocket, built in from 22), or a
// reason to skip.
func chromiumAndNode() (chromium, skip string) {
	for _, c := range []string{os.Getenv("EDDY_CHROMIUM"), "chromium", "chromium-browser", "/usr/bin/chromium"} {
		if c == "" {
			continue
		}
		if p, err := exec.LookPath(c); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		return "", "no chromium (Debian: apt-get install chromium; or set EDDY_CHROMIUM)"
	}
	if exec.Command("node", "--experimental-websocket", "-e", "if (typeof WebSocket !== 'function') process.exit(1)").Run() != nil {
		return "", "no node with WebSocket (node ≥ 20.10)"
	}
	return chromium, ""
}

// The browser UI in headless Chromium against the real cmd/api, driven as a
// person would (web/testdata/browser.mjs): the job list over its live stream,
// the catalogue, a form whose bad value shows the server's message at the
// field, a poisson.solve submitted through the form and followed to
// succeeded with its plots, and its HDF5 downloaded; two jobs compared from
// the job list; the API reference at /docs rendered with nothing fetched
// from elsewhere. Screenshots of every page are written to
// EDDY_SCREENSHOT_DIR (default: the test's temporary
// directory); the time to first paint of the job list is logged, not
// asserted.
func TestBrowserUI(t *testing.T) {
	chromium, skip := chromiumAndNode()
	if skip != "" {
		t.Skip(skip)
	}
	addr := freeAddr(t)
	startProc(t, "api", []string{"EDDY_ADDR=" + addr, "EDDY_DATA_DIR=" + t.TempDir(), "DATABASE_URL=", "EDDY_WORKERS=2"})
	c := client{"http://" + addr}
	c.waitReady(t)
	out := os.Getenv("EDDY_SCREENSHOT_DIR")
	if out == "" {
		out = t.TempDir()
	}
	out, _ = filepath.Abs(out)
	if err := os.MkdirAll(out, 0o755); err != nil {
		t.Fatal(err)
	}
	script, _ := filepath.Abs("../web/testdata/browser.mjs")
	cmd := exec.Command("node", "--experimental-websocket", "--no-warnings", script, chromium, c.base, out)
	b, err := cmd.CombinedOutput()
	t.Logf("%s", b)
	if err != nil || !strings.Contains(string(b), " passed, 0 failed") {
		t.Fatalf("browser check: %v", err)
	}
	// The time to first paint of the job list, reported, not asserted (the
	// goal is 200 ms; a loaded machine takes longer): also in measures.json
	// beside the screenshots.
	var m struct {
		ScriptToPaint     int `json:"jobListScriptToPaintMs"`
		FCP               int `json:"firstContentfulPaintMs"`
		DOMReady          int `json:"domContentLoadedMs"`
		WarmFCP           int `json:"warmFirstContentfulPaintMs"`
		WarmScriptToPaint int `json:"warmJobListScriptToPaintMs"`
	}
	if b, err := os.ReadFile(filepath.Join(out, "measures.json")); err != nil || json.Unmarshal(b, &m) != nil {
		t.Errorf("measures.json: %v", err)
	}
	t.Logf("job list: first contentful paint %d ms after navigation, painted with its jobs %d ms after the script started (DOMContentLoaded %d ms); "+
		"after a reload: %d ms and %d ms", m.FCP, m.ScriptToPaint, m.DOMReady, m.WarmFCP, m.WarmScriptToPaint)
	for _, name := range []string{"jobs", "catalogue", "form-error", "job", "jobs-filtered", "uploads", "compare", "riverui", "docs"} {
		if st, err := os.Stat(filepath.Join(out, name+".png")); err != nil || st.Size() == 0 {
			t.Errorf("screenshot %s: %v", name, err)
		}
	}
	t.Logf("screenshots in %s", out)
}
