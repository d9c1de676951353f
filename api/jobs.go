package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"eddy/jobs"
	"eddy/storage"
)

// jobView is a run as the API shows it.
type jobView struct {
	ID   string `json:"id"`
	Kind string `json:"kind"`
	// Owner owns the job: the owner of the token that submitted it.
	Owner      string            `json:"owner"`
	State      storage.State     `json:"state"`
	Params     json.RawMessage   `json:"params"`
	Inputs     map[string]string `json:"inputs,omitempty"`
	Attempt    int               `json:"attempt"`
	Error      *string           `json:"error"`
	Progress   *storage.Progress `json:"progress"`
	CreatedAt  time.Time         `json:"created_at"`
	StartedAt  *time.Time        `json:"started_at"`
	FinishedAt *time.Time        `json:"finished_at"`
	Result     *resultView       `json:"result"`
	// Warnings say what a user should know about the result; [] when none.
	Warnings []string `json:"warnings"`
	// WaitingFor lists the unfinished jobs whose results a queued job waits
	// for before it is handed to a worker.
	WaitingFor []string `json:"waiting_for,omitempty"`
}

type resultView struct {
	URL      string         `json:"url"`
	Bytes    int64          `json:"bytes"`
	SHA256   string         `json:"sha256"`
	Datasets []string       `json:"datasets"`
	Metrics  map[string]any `json:"metrics"`
}

func viewOf(r *storage.Run) jobView {
	v := jobView{ID: r.ID, Kind: r.Kind, Owner: r.Owner, State: r.State, Params: r.Params, Inputs: r.Inputs,
		Attempt: r.Attempt, Progress: r.Progress, CreatedAt: r.CreatedAt, Warnings: []string{}}
	if r.Error != "" {
		v.Error = &r.Error
	}
	if !r.StartedAt.IsZero() {
		v.StartedAt = &r.StartedAt
	}
	if r.State == storage.Queued {
		v.WaitingFor = r.WaitingFor
	}
	if !r.FinishedAt.IsZero() {
		v.FinishedAt = &r.FinishedAt
	}
	if r.State == storage.Succeeded && r.Result != nil {
		res := r.Result
		v.Result = &resultView{URL: "/v1/jobs/" + r.ID + "/result", Bytes: res.Bytes, SHA256: res.SHA256,
			Datasets: res.Datasets, Metrics: res.Metrics}
		if res.Warnings != nil {
			v.Warnings = res.Warnings
		}
	}
	return v
}

func (s *server) listKinds(w http.ResponseWriter, r *http.Request) {
	type kindView struct {
		Name        string         `json:"name"`
		Title       string         `json:"title"`
		Description string         `json:"description"`
		Params      map[string]any `json:"params_schema"`
		Inputs      []string       `json:"inputs"`
		Outputs     []string       `json:"outputs"`
		// Class is the job class, which names the queue the kind's runs
		// wait in ("solve" or "train").
		Class string `json:"class"`
		// Metrics documents result.metrics (and the file's /metrics) by
		// name, as "type: meaning".
		Metrics     map[string]string `json:"metrics"`
		Timeout     float64           `json:"timeout_seconds"`
		MaxAttempts int               `json:"max_attempts"`
	}
	var out []kindView
	for _, k := range jobs.Kinds() {
		metrics := k.MetricDocs()
		if metrics == nil {
			metrics = map[string]string{}
		}
		out = append(out, kindView{k.Name(), k.Title(), k.Description(), k.Schema(),
			nonNil(k.InputNames()), nonNil(k.OutputNames()), k.Class(), metrics, k.Timeout().Seconds(), k.MaxAttempts()})
	}
	writeJSON(w, http.StatusOK, map[string]any{"kinds": out})
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// readJSON decodes a JSON body of at most maxJSONBody bytes into dst, rejecting
// unknown fields; it writes the problem and returns false on failure.
func readJSON(w http.ResponseWriter, r *http.Request, dst any) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxJSONBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body exceeds %d bytes", maxJSONBody))
		return false
	}
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "reading request body: "+err.Error())
		return false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		writeProblem(w, http.StatusBadRequest, "request body is empty; a JSON object is required", jobs.FieldError{Path: "", Message: "empty body"})
		return false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		fe := jobs.DecodeError(err)
		writeProblem(w, http.StatusBadRequest, "malformed request body: "+fe.Message, fe)
		return false
	}
	// More is false before a stray "}" or "]": only the end of input is clean.
	if _, err := dec.Token(); err != io.EOF {
		writeProblem(w, http.StatusBadRequest, "unexpected data after the JSON object")
		return false
	}
	return true
}

// writeErr maps service errors to problems; anything unexpected is a logged 500
// whose body carries only an error id.
func (s *server) writeErr(w http.ResponseWriter, r *http.Request, err error) {
	var (
		verr  jobs.ValidationError
		inUse *jobs.InUseError
	)
	switch {
	case errors.As(err, &verr):
		writeProblem(w, http.StatusUnprocessableEntity, verr.Error(), verr...)
	case errors.Is(err, jobs.ErrConflict):
		writeProblem(w, http.StatusConflict, err.Error(), jobs.FieldError{Path: "/idempotency_key", Message: err.Error()})
	case errors.Is(err, jobs.ErrFinal):
		writeProblem(w, http.StatusConflict, err.Error()+"; only a queued or running job can be cancelled")
	case errors.As(err, &inUse):
		writeProblem(w, http.StatusConflict, err.Error())
	case errors.Is(err, jobs.ErrLive):
		writeProblem(w, http.StatusConflict, err.Error()+"; cancel it first, or wait until it ends")
	case errors.Is(err, storage.ErrNotFound):
		writeProblem(w, http.StatusNotFound, "no such job")
	default:
		s.internalError(w, r, err)
	}
}

func (s *server) submit(w http.ResponseWriter, r *http.Request) {
	var req jobs.SubmitRequest
	if !readJSON(w, r, &req) {
		return
	}
	c := callerOf(r)
	req.Owner, req.AnyOwner = c.owner, c.admin
	if s.overQuota(w, r, true, 0) {
		return
	}
	run, created, err := s.cfg.Jobs.Submit(r.Context(), req)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/jobs/"+run.ID)
	status := http.StatusAccepted
	if !created {
		status = http.StatusOK
	}
	writeJSON(w, status, viewOf(run))
}

func (s *server) getJob(w http.ResponseWriter, r *http.Request) {
	run, err := s.cfg.Jobs.Get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, viewOf(run))
}

func (s *server) cancelJob(w http.ResponseWriter, r *http.Request) {
	run, err := s.cfg.Jobs.Cancel(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	writeJSON(w, http.StatusAccepted, viewOf(run))
}

// deleteJob removes a job that has ended, and its result file, unless a
// queued or running job needs its result (409, naming that job); a queued
// or running job must be cancelled first (409).
func (s *server) deleteJob(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Jobs.DeleteJob(r.Context(), chi.URLParam(r, "id")); err != nil {
		s.writeErr(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// listLimit reads the page size ?limit= of a list (def when absent),
// recording an error unless it is an integer from 1 to 500.
func listLimit(q url.Values, def int, errs *[]jobs.FieldError) int {
	v := q.Get("limit")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 500 {
		*errs = append(*errs, jobs.FieldError{Path: "/query/limit", Message: "must be an integer from 1 to 500"})
	}
	return n
}

func (s *server) listJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := storage.RunFilter{Kind: q.Get("kind"), State: storage.State(q.Get("state"))}
	var errs []jobs.FieldError
	owner, ferr := listOwner(r)
	if ferr != nil {
		errs = append(errs, *ferr)
	}
	f.Owner = owner
	if f.Kind != "" {
		if _, ok := jobs.Lookup(f.Kind); !ok {
			errs = append(errs, jobs.FieldError{Path: "/query/kind", Message: fmt.Sprintf("unknown job kind %q", f.Kind)})
		}
	}
	if f.State != "" && !f.State.Valid() {
		errs = append(errs, jobs.FieldError{Path: "/query/state", Message: fmt.Sprintf("unknown state %q (queued, running, succeeded, failed, cancelled)", f.State)})
	}
	f.Limit = listLimit(q, 50, &errs)
	if c := q.Get("cursor"); c != "" {
		id, err := base64.RawURLEncoding.DecodeString(c)
		if err != nil || len(id) == 0 || !storage.ValidText(string(id)) {
			errs = append(errs, jobs.FieldError{Path: "/query/cursor", Message: "not a cursor returned by this API"})
		}
		f.BeforeID = string(id)
	}
	if len(errs) > 0 {
		writeProblem(w, http.StatusBadRequest, "invalid query", errs...)
		return
	}
	runs, err := s.cfg.Jobs.List(r.Context(), f)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	views := make([]jobView, len(runs))
	for i, run := range runs {
		views[i] = viewOf(run)
	}
	var next *string
	if len(runs) == f.Limit {
		c := base64.RawURLEncoding.EncodeToString([]byte(runs[len(runs)-1].ID))
		next = &c
	}
	writeJSON(w, http.StatusOK, map[string]any{"jobs": views, "next_cursor": next})
}

// events streams the job as server-sent events: one "job" event per change, until
// the job is final or the client goes away. Changes come from the process's one
// change feed; past the stream caps the answer is 429.
func (s *server) events(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	run, err := s.cfg.Jobs.Get(r.Context(), id)
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		s.internalError(w, r, errors.New("response writer cannot stream"))
		return
	}
	sub, err := s.feed.subscribe(run, clientKey(r))
	if err != nil {
		w.Header().Set("Retry-After", "10")
		writeProblem(w, http.StatusTooManyRequests, fmt.Sprintf(
			"too many open event streams (at most %d per client, %d in all); close one, or poll GET /v1/jobs/%s",
			s.cfg.MaxStreamsPerClient, s.cfg.MaxStreams, id))
		return
	}
	defer s.feed.unsubscribe(sub)
	startEventStream(w)
	var last []byte
	seq := 0
	keepAlive := time.NewTicker(15 * time.Second)
	defer keepAlive.Stop()
	for {
		data, _ := json.Marshal(viewOf(run))
		if !bytes.Equal(data, last) {
			seq++
			fmt.Fprintf(w, "id: %d\nevent: job\ndata: %s\n\n", seq, data)
			flusher.Flush()
			last = data
		}
		if run.State.Final() {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.cfg.Closing:
			return
		case <-keepAlive.C:
			fmt.Fprint(w, ": keep-alive\n\n")
			flusher.Flush()
		case next := <-sub.ch:
			// The feed may hand over a version read before the one shown.
			if !next.UpdatedAt.Before(run.UpdatedAt) {
				run = next
			}
		}
	}
}

// result serves a succeeded job's HDF5 file with Range support and its SHA-256.
func (s *server) result(w http.ResponseWriter, r *http.Request) {
	run, err := s.cfg.Jobs.Get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.writeErr(w, r, err)
		return
	}
	if run.State != storage.Succeeded || run.Result == nil {
		writeProblem(w, http.StatusConflict, fmt.Sprintf("job is %s; the result exists once it has succeeded", run.State))
		return
	}
	f, err := s.cfg.Artifacts.Open(r.Context(), run.ResultPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.storeUnavailable(w, run, err)
		return
	}
	if err != nil {
		s.log.Error("result file unreadable", "run", run.ID, "err", err)
		writeProblem(w, http.StatusGone, "the result file of this job is no longer available")
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", "application/x-hdf5")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", run.ID+".h5"))
	w.Header().Set("ETag", `"`+run.Result.SHA256+`"`)
	w.Header().Set("X-Content-SHA256", run.Result.SHA256)
	http.ServeContent(w, r, "", run.FinishedAt, f)
}
