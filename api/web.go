package api

import (
	"github.com/go-chi/chi/v5"

	"eddy/web"
)

// mountUI serves the browser UI (package web) at "/", the API reference at
// "/docs" and their assets under "/ui/". The page calls the API like any client: with the bearer token the
// user gives it when the API has tokens.
func mountUI(r chi.Router) {
	h := web.Handler()
	r.Get("/", h.ServeHTTP)
	r.Get("/docs", h.ServeHTTP)
	r.Get("/ui/*", h.ServeHTTP)
}
