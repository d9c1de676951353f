// Package web is Eddy's browser UI: one page of plain HTML, CSS and
// JavaScript, embedded in the binary with embed.FS, that talks only to the
// API of the server that serves it (no external network: no CDN, no fonts,
// no frameworks).
//
// Besides the page, it serves the API reference at /docs, rendered from
// /openapi.json by Redoc's standalone bundle (static/vendor, with its
// licence).
//
// The page lists the job kinds with a form generated from each kind's JSON
// Schema (GET /v1/kinds), uploads files with a progress bar, keeps a live job
// list from one server-sent event stream (GET /v1/events), and shows a job
// with its params, progress, error, warnings, datasets and the plots the
// server renders from its result (GET /v1/jobs/{id}/plots).
package web

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// csp confines the page to its own origin: scripts, styles, images (and the
// blob: URLs of plots fetched with a bearer token) come from the server.
const csp = "default-src 'self'; img-src 'self' blob: data:; style-src 'self'; script-src 'self'; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// docsCSP is the policy of the API reference page: Redoc injects its styles
// as <style> elements and runs its search index in a worker made from a
// blob: URL; still nothing beyond the server is fetched (its logo, linked
// from another host, is refused and hidden).
const docsCSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; " +
	"worker-src 'self' blob:; connect-src 'self'; font-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// Handler serves the UI: the page at "/", the API reference at "/docs"
// (Redoc, vendored under static/vendor, rendering /openapi.json) and their
// assets under "/ui/".
// Everything else is not found. Assets are revalidated on each load (they
// change with the binary), so that a new build is never mixed with an old
// script.
func Handler() http.Handler {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	files := http.FileServer(http.FS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", csp)
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		switch {
		case r.URL.Path == "/" || r.URL.Path == "/index.html":
			http.ServeFileFS(w, r, sub, "index.html")
		case r.URL.Path == "/docs":
			w.Header().Set("Content-Security-Policy", docsCSP)
			http.ServeFileFS(w, r, sub, "docs.html")
		case strings.HasPrefix(r.URL.Path, "/ui/") && !strings.HasSuffix(r.URL.Path, "/"):
			r2 := r.Clone(r.Context())
			r2.URL.Path = strings.TrimPrefix(r.URL.Path, "/ui")
			files.ServeHTTP(w, r2)
		default:
			http.NotFound(w, r)
		}
	})
}
