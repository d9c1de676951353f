package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/go-chi/chi/v5"

	"eddy/jobs"
	"eddy/storage"
)

// Every job, upload and result belongs to the owner of the token that
// created it. Another owner is told that it does not exist (404, never 403,
// which would confirm that it does); an admin token sees everything.

// owned answers 404 for a route's {id} (a job, or on /v1/uploads/ an upload)
// that the caller may not see; it runs after routing, where {id} is known.
func (s *server) owned(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := chi.URLParam(r, "id")
		c := callerOf(r)
		if id == "" || c.admin {
			next.ServeHTTP(w, r)
			return
		}
		upload := strings.HasPrefix(chi.RouteContext(r.Context()).RoutePattern(), "/v1/uploads/")
		owner, what := "", "job"
		var err error
		if upload {
			what = "upload"
			owner, err = storage.UploadOwner(r.Context(), s.cfg.DB.Read, id)
		} else {
			owner, err = storage.RunOwner(r.Context(), s.cfg.DB.Read, id)
		}
		switch {
		case errors.Is(err, storage.ErrNotFound) || (err == nil && !c.sees(owner)):
			writeProblem(w, http.StatusNotFound, "no such "+what)
		case err != nil:
			s.internalError(w, r, err)
		default:
			next.ServeHTTP(w, r)
		}
	})
}

// visibleRun returns run id if the caller may see it, else storage.ErrNotFound,
// for handlers that take job ids from elsewhere than the route.
func (s *server) visibleRun(r *http.Request, id string) (*storage.Run, error) {
	run, err := s.cfg.Jobs.Get(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if !callerOf(r).sees(run.Owner) {
		return nil, storage.ErrNotFound
	}
	return run, nil
}

// listOwner returns whose jobs a list shows: the caller's own; for an admin
// every owner's ("") or those of ?owner=. A user token naming another owner
// is refused.
func listOwner(r *http.Request) (string, *jobs.FieldError) {
	c := callerOf(r)
	want := r.URL.Query().Get("owner")
	switch {
	case c.admin:
		return want, nil
	case want == "" || want == c.owner:
		return c.owner, nil
	default:
		return "", &jobs.FieldError{Path: "/query/owner", Message: "a token of scope user lists its own jobs only"}
	}
}

// Quotas bound what one owner holds (Config.QuotaBytes, Config.QuotaQueued).
// They are checked before the work, not in its transaction: requests of one
// owner that run at the same moment may each pass and overshoot the quota by
// what they add, which a quota meant to stop runaway use allows.

// overQuota writes the problem and returns true when the caller may not add
// a job (bytes 0) or an upload of at most bytes: its unfinished jobs are at
// the queued quota (429), or its stored bytes, plus bytes, exceed the byte
// quota (413).
func (s *server) overQuota(w http.ResponseWriter, r *http.Request, job bool, bytes int64) bool {
	if s.cfg.QuotaBytes <= 0 && (!job || s.cfg.QuotaQueued <= 0) {
		return false
	}
	owner := callerOf(r).owner
	u, err := storage.OwnerUsage(r.Context(), s.cfg.DB.Read, owner)
	if err != nil {
		s.internalError(w, r, err)
		return true
	}
	if job && s.cfg.QuotaQueued > 0 && u.Unfinished >= s.cfg.QuotaQueued {
		w.Header().Set("Retry-After", "30")
		writeProblem(w, http.StatusTooManyRequests, fmt.Sprintf(
			"quota reached: %d of your jobs are queued or running, and at most %d may be; submit again once some have ended", u.Unfinished, s.cfg.QuotaQueued))
		return true
	}
	// A job is refused once the quota is reached, since its result adds to it.
	if s.cfg.QuotaBytes > 0 && (u.Bytes+bytes > s.cfg.QuotaBytes || job && u.Bytes >= s.cfg.QuotaBytes) {
		msg := fmt.Sprintf("storage quota exceeded: your uploads and results hold %d bytes of the %d allowed", u.Bytes, s.cfg.QuotaBytes)
		if bytes > 0 {
			msg = fmt.Sprintf("storage quota exceeded: this upload of %d bytes would bring your uploads and results to %d bytes, over the %d allowed", bytes, u.Bytes+bytes, s.cfg.QuotaBytes)
		}
		writeProblem(w, http.StatusRequestEntityTooLarge, msg+"; delete jobs or uploads you no longer need (DELETE /v1/jobs/{id}, DELETE /v1/uploads/{id})")
		return true
	}
	return false
}
