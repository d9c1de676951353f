package web

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

// The page is served at "/", its assets under "/ui/" with their content
// types and a same-origin content security policy; anything else is 404.
func TestHandlerServesThePage(t *testing.T) {
	h := Handler()
	for _, c := range []struct {
		path, ctype, contains string
		code                  int
	}{
		{"/", "text/html", `<script src="/ui/app.js"`, 200},
		{"/ui/app.js", "text/javascript", "function route()", 200},
		{"/ui/app.css", "text/css", ":root", 200},
		{"/docs", "text/html", `<script src="/ui/vendor/redoc.standalone.js"`, 200},
		{"/ui/vendor/redoc.standalone.js", "text/javascript", "Redoc", 200},
		{"/ui/docs.js", "text/javascript", "/openapi.json", 200},
		{"/ui/nope.js", "", "", 404},
		{"/ui/", "", "", 404},
		{"/elsewhere", "", "", 404},
	} {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", c.path, nil))
		body := rec.Body.String()
		if rec.Code != c.code || !strings.HasPrefix(rec.Header().Get("Content-Type"), c.ctype) || !strings.Contains(body, c.contains) {
			t.Errorf("%s: %d %q, want %d %q containing %q", c.path, rec.Code, rec.Header().Get("Content-Type"), c.code, c.ctype, c.contains)
		}
		if c.code == 200 && !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'self'") {
			t.Errorf("%s: CSP %q", c.path, rec.Header().Get("Content-Security-Policy"))
		}
	}
}

// No asset of ours reaches beyond the server: no absolute URL to another
// host, no protocol-relative URL, no inline script or style (which the CSP
// would block anyway). The vendored Redoc bundle holds such URLs in strings
// (links, a logo the CSP refuses); the browser test checks that the docs
// page fetches nothing from elsewhere.
func TestAssetsStayOnTheServer(t *testing.T) {
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}`)
	err := fs.WalkDir(static, "static", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if strings.HasPrefix(path, "static/vendor/") {
			return nil
		}
		f, _ := static.Open(path)
		b, _ := io.ReadAll(f)
		f.Close()
		for _, line := range strings.Split(string(b), "\n") {
			if m := external.FindString(line); m != "" && !strings.HasPrefix(strings.TrimSpace(line), "//") {
				t.Errorf("%s refers to %s: %s", path, m, strings.TrimSpace(line))
			}
		}
		if strings.HasSuffix(path, ".html") && (regexp.MustCompile(`<script>|<script [^>]*>[^<]`).Match(b) || strings.Contains(string(b), "<style") || strings.Contains(string(b), " style=")) {
			t.Errorf("%s has inline script or style", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var _ http.Handler = Handler()
}
