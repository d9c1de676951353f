package api

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"

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
func (s *server) internalError(w http.ResponseWriter, r *http.Request, err error) {
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
