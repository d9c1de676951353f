package api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"time"

	"eddy/jobs"
)

// problem is an RFC 9457 problem document, with the field errors of a validation
// failure. ErrorID names a server-side failure in the log.
type problem struct {
	Type    string            `json:"type"`
	Title   string            `json:"title"`
	Status  int               `json:"status"`
	Detail  string            `json:"detail,omitempty"`
	ErrorID string            `json:"error_id,omitempty"`
	Errors  []jobs.FieldError `json:"errors,omitempty"`
}

// writeProblem answers a client error (4xx) or a 503 whose detail is meant for
// the client. Server failures go through internalError, which never shows
// their text.
func writeProblem(w http.ResponseWriter, status int, detail string, errs ...jobs.FieldError) {
	writeProblemDoc(w, problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Errors: errs})
}

func writeProblemDoc(w http.ResponseWriter, p problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

// internalError logs err under a fresh error id and answers a generic 500 that
// carries only that id: server paths, driver and library messages stay in the log.
//
// A failure while the database is unreachable (a restart, a network
// partition) is not the server's fault and passes: it answers 503 with
// Retry-After, as the readiness probe does, for the client to try again.
func (s *server) internalError(w http.ResponseWriter, r *http.Request, err error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), time.Second)
	defer cancel()
	if perr := s.cfg.DB.Ping(ctx); perr != nil {
		s.log.Warn("database not reachable", "method", r.Method, "path", r.URL.Path, "err", err, "ping", perr)
		w.Header().Set("Retry-After", "5")
		writeProblem(w, http.StatusServiceUnavailable, "the database is not reachable; try again in a few seconds")
		return
	}
	id := newErrorID()
	s.log.Error("internal error", "error_id", id, "method", r.Method, "path", r.URL.Path, "err", err)
	writeProblemDoc(w, problem{Type: "about:blank", Title: http.StatusText(http.StatusInternalServerError),
		Status: http.StatusInternalServerError, ErrorID: id,
		Detail: "internal error " + id + "; the server's log has the details"})
}

func newErrorID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}
