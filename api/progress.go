package api

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"eddy/storage"
)

// progressHistory serves GET /v1/jobs/{id}/progress: the progress history of
// the job's current attempt, {"progress": [{"at", "kind", "fraction",
// "message", "metrics"}, …]} in order, where kind is progress (an update as
// stored while running, throttled to one per 250 ms and thinned to at most
// 10,000 for a long run; the last one of a succeeded job has fraction 1),
// stage or warning. It is [] for a job that has not started.
func (s *server) progressHistory(w http.ResponseWriter, r *http.Request) {
	points, err := storage.ProgressHistory(r.Context(), s.cfg.DB.Read, chi.URLParam(r, "id"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"progress": points})
}
