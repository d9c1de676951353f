package api

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"eddy/jobs"
	"eddy/storage"
)

// listUploads lists the caller's uploads (an admin's: everyone's, or those of
// ?owner=), newest first, a page of ?limit= (50 by default) at a time;
// next_cursor, when not null, continues the listing as ?cursor=.
func (s *server) listUploads(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := storage.UploadFilter{}
	var errs []jobs.FieldError
	owner, ferr := listOwner(r)
	if ferr != nil {
		ferr.Message = "a token of scope user lists its own uploads only"
		errs = append(errs, *ferr)
	}
	f.Owner = owner
	f.Limit = listLimit(q, 50, &errs)
	if c := q.Get("cursor"); c != "" {
		cur, ok := decodeUploadCursor(c)
		if !ok {
			errs = append(errs, jobs.FieldError{Path: "/query/cursor", Message: "not a cursor returned by this API"})
		}
		f.After = cur
	}
	if len(errs) > 0 {
		writeProblem(w, http.StatusBadRequest, "invalid query", errs...)
		return
	}
	ups, err := storage.ListUploads(r.Context(), s.cfg.DB.Read, f)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	views := make([]uploadView, len(ups))
	for i, u := range ups {
		views[i] = uploadViewOf(u)
	}
	var next *string
	if len(ups) == f.Limit {
		last := ups[len(ups)-1]
		c := base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last.CreatedAt.UnixMicro(), 10) + " " + last.ID))
		next = &c
	}
	writeJSON(w, http.StatusOK, map[string]any{"uploads": views, "next_cursor": next})
}

// decodeUploadCursor reads a cursor of listUploads: the last upload's creation
// time in microseconds and its id, as uploads are ordered by both.
func decodeUploadCursor(c string) (*storage.UploadCursor, bool) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return nil, false
	}
	us, id, ok := strings.Cut(string(b), " ")
	if !ok || id == "" || !storage.ValidText(id) {
		return nil, false
	}
	n, err := strconv.ParseInt(us, 10, 64)
	if err != nil {
		return nil, false
	}
	return &storage.UploadCursor{CreatedAt: time.UnixMicro(n), ID: id}, true
}
