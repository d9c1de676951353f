package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Client speaks Eddy's HTTP API (v1). It holds no server state; every method is
// one or a few requests.
type Client struct {
	// base is the server URL without a trailing slash, e.g. http://127.0.0.1:8080
	// (a path prefix in front of /v1 is kept).
	base  string
	token string
	http  *http.Client
}

// NewClient returns a client for the server at rawURL ("http://host:port", or
// "host:port", which means http). token, when set, is sent as a bearer token.
func NewClient(rawURL, token string, hc *http.Client) (*Client, error) {
	if !strings.Contains(rawURL, "://") {
		rawURL = "http://" + rawURL
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("server URL %q: %v", rawURL, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("server URL %q: want http://host:port or https://host", rawURL)
	}
	u.RawQuery, u.Fragment = "", ""
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Client{base: strings.TrimRight(u.String(), "/"), token: token, http: hc}, nil
}

// FieldError is one entry of a problem's errors list: a JSON Pointer into the
// request and what is wrong there.
type FieldError struct {
	Path    string `json:"path"`
	Message string `json:"message"`
}

// APIError is a non-2xx answer: an RFC 9457 problem document when the server sent
// one, otherwise the status and the start of the body.
type APIError struct {
	Status int
	Title  string
	Detail string
	Errors []FieldError
	// Body is the start of a body that was not a problem document.
	Body string
}

// Error renders the problem on one or more lines: the title and status, the detail,
// then each field error as "path: message".
func (e *APIError) Error() string {
	var b strings.Builder
	title := e.Title
	if title == "" {
		title = http.StatusText(e.Status)
	}
	fmt.Fprintf(&b, "%s (HTTP %d)", title, e.Status)
	if e.Detail != "" && !e.detailRepeatsErrors() {
		b.WriteString(": " + e.Detail)
	}
	if len(e.Errors) == 0 && e.Body != "" {
		b.WriteString(": " + e.Body)
	}
	for _, fe := range e.Errors {
		path := fe.Path
		if path == "" {
			path = "(request body)"
		}
		fmt.Fprintf(&b, "\n  %s: %s", path, fe.Message)
	}
	return b.String()
}

// detailRepeatsErrors reports whether the detail only restates the field errors,
// which are shown one per line anyway.
func (e *APIError) detailRepeatsErrors() bool {
	if len(e.Errors) == 0 {
		return false
	}
	for _, fe := range e.Errors {
		if !strings.Contains(e.Detail, fe.Message) {
			return false
		}
	}
	return true
}

// apiError reads a failed response into an *APIError.
func apiError(resp *http.Response) error {
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &APIError{Status: resp.StatusCode}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/problem+json" || mt == "application/json" {
		var p struct {
			Title  string       `json:"title"`
			Detail string       `json:"detail"`
			Errors []FieldError `json:"errors"`
		}
		if json.Unmarshal(body, &p) == nil && (p.Title != "" || p.Detail != "" || len(p.Errors) > 0) {
			e.Title, e.Detail, e.Errors = p.Title, p.Detail, p.Errors
			return e
		}
	}
	text := strings.TrimSpace(string(body))
	if len(text) > 300 {
		text = text[:300] + "…"
	}
	e.Body = text
	return e
}

// Progress is what a running job last reported.
type Progress struct {
	Fraction float64            `json:"fraction"`
	Message  string             `json:"message"`
	Metrics  map[string]float64 `json:"metrics,omitempty"`
}

// Result describes a succeeded job's HDF5 file.
type Result struct {
	URL      string         `json:"url"`
	Bytes    int64          `json:"bytes"`
	SHA256   string         `json:"sha256"`
	Datasets []string       `json:"datasets"`
	Metrics  map[string]any `json:"metrics"`
}

// Job is a job as the API shows it.
type Job struct {
	ID         string            `json:"id"`
	Kind       string            `json:"kind"`
	State      string            `json:"state"`
	Params     json.RawMessage   `json:"params"`
	Inputs     map[string]string `json:"inputs,omitempty"`
	Attempt    int               `json:"attempt"`
	Error      *string           `json:"error"`
	Progress   *Progress         `json:"progress"`
	CreatedAt  time.Time         `json:"created_at"`
	StartedAt  *time.Time        `json:"started_at"`
	FinishedAt *time.Time        `json:"finished_at"`
	Result     *Result           `json:"result"`
	// Warnings are what the run wants its user to know although it
	// succeeded (an unconverged solve, a guessed input convention).
	Warnings []string `json:"warnings,omitempty"`
}

// Final reports whether the job has reached a state it never leaves.
func (j *Job) Final() bool {
	return j.State == "succeeded" || j.State == "failed" || j.State == "cancelled"
}

// SubmitRequest is the body of POST /v1/jobs.
type SubmitRequest struct {
	Kind           string            `json:"kind"`
	Params         json.RawMessage   `json:"params"`
	Inputs         map[string]string `json:"inputs,omitempty"`
	IdempotencyKey string            `json:"idempotency_key,omitempty"`
}

// JobPage is one page of GET /v1/jobs.
type JobPage struct {
	Jobs       []Job   `json:"jobs"`
	NextCursor *string `json:"next_cursor"`
}

// ListQuery filters GET /v1/jobs; zero fields are left to the server's defaults.
type ListQuery struct {
	Kind, State, Cursor string
	Limit               int
}

// Kind is an entry of GET /v1/kinds.
type Kind struct {
	Name           string         `json:"name"`
	Title          string         `json:"title"`
	Description    string         `json:"description"`
	ParamsSchema   map[string]any `json:"params_schema"`
	Inputs         []string       `json:"inputs"`
	Outputs        []string       `json:"outputs"`
	TimeoutSeconds float64        `json:"timeout_seconds"`
	MaxAttempts    int            `json:"max_attempts"`
}

func (c *Client) newRequest(ctx context.Context, method, path string, body io.Reader) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	req.Header.Set("User-Agent", "eddy-cli")
	return req, nil
}

// do sends req and returns the response when its status is one of ok; otherwise
// it returns the response's *APIError.
func (c *Client) do(req *http.Request, ok ...int) (*http.Response, error) {
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			// "GET http://…/v1/jobs/x: dial tcp …: connection refused"
			return nil, fmt.Errorf("%s %s: %w", req.Method, req.URL.Redacted(), ue.Err)
		}
		return nil, err
	}
	for _, s := range ok {
		if resp.StatusCode == s {
			return resp, nil
		}
	}
	defer resp.Body.Close()
	return nil, apiError(resp)
}

// call sends a request with an optional JSON body and decodes a JSON answer into
// dst (when not nil). It returns the raw answer and its status.
func (c *Client) call(ctx context.Context, method, path string, in, dst any, ok ...int) ([]byte, int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return nil, 0, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.do(req, ok...)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, resp.StatusCode, fmt.Errorf("%s %s: reading answer: %w", method, path, err)
	}
	if dst != nil {
		if err := json.Unmarshal(raw, dst); err != nil {
			return raw, resp.StatusCode, fmt.Errorf("%s %s: unexpected answer: %w", method, path, err)
		}
	}
	return raw, resp.StatusCode, nil
}

func jobPath(id string) string { return "/v1/jobs/" + url.PathEscape(id) }

// Submit submits a job. created is false when an earlier job with the same
// idempotency key and request was returned instead.
func (c *Client) Submit(ctx context.Context, r SubmitRequest) (job *Job, created bool, err error) {
	job = new(Job)
	_, status, err := c.call(ctx, http.MethodPost, "/v1/jobs", r, job, http.StatusAccepted, http.StatusOK, http.StatusCreated)
	if err != nil {
		return nil, false, err
	}
	return job, status != http.StatusOK, nil
}

// Job returns the job and the server's JSON of it.
func (c *Client) Job(ctx context.Context, id string) (*Job, []byte, error) {
	job := new(Job)
	raw, _, err := c.call(ctx, http.MethodGet, jobPath(id), nil, job, http.StatusOK)
	if err != nil {
		return nil, nil, err
	}
	return job, raw, nil
}

// Delete removes an ended job's record and result, or with upload set an upload.
// The server refuses (409) while a queued or running job needs it.
func (c *Client) Delete(ctx context.Context, id string, upload bool) error {
	path := jobPath(id)
	if upload {
		path = "/v1/uploads/" + url.PathEscape(id)
	}
	_, _, err := c.call(ctx, http.MethodDelete, path, nil, nil, http.StatusNoContent)
	return err
}

// Cancel asks the server to cancel the job and returns it as it is right after.
func (c *Client) Cancel(ctx context.Context, id string) (*Job, error) {
	job := new(Job)
	if _, _, err := c.call(ctx, http.MethodPost, jobPath(id)+"/cancel", nil, job, http.StatusAccepted, http.StatusOK); err != nil {
		return nil, err
	}
	return job, nil
}

// ListJobs returns one page of jobs, newest first.
func (c *Client) ListJobs(ctx context.Context, q ListQuery) (*JobPage, error) {
	v := url.Values{}
	if q.Kind != "" {
		v.Set("kind", q.Kind)
	}
	if q.State != "" {
		v.Set("state", q.State)
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	path := "/v1/jobs"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	page := new(JobPage)
	if _, _, err := c.call(ctx, http.MethodGet, path, nil, page, http.StatusOK); err != nil {
		return nil, err
	}
	return page, nil
}

// Upload is an entry of GET /v1/uploads.
type Upload struct {
	ID        string    `json:"id"`
	Filename  string    `json:"filename,omitempty"`
	Format    string    `json:"format"`
	Bytes     int64     `json:"bytes"`
	SHA256    string    `json:"sha256"`
	Datasets  []Dataset `json:"datasets"`
	CreatedAt time.Time `json:"created_at"`
}

// Dataset is an array of an upload.
type Dataset struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	Dtype string `json:"dtype"`
}

// UploadPage is one page of GET /v1/uploads.
type UploadPage struct {
	Uploads    []Upload `json:"uploads"`
	NextCursor *string  `json:"next_cursor"`
}

// ListUploads returns one page of the caller's uploads, newest first; a zero
// limit or an empty cursor is left to the server's default.
func (c *Client) ListUploads(ctx context.Context, limit int, cursor string) (*UploadPage, error) {
	v := url.Values{}
	if limit > 0 {
		v.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		v.Set("cursor", cursor)
	}
	path := "/v1/uploads"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	page := new(UploadPage)
	if _, _, err := c.call(ctx, http.MethodGet, path, nil, page, http.StatusOK); err != nil {
		return nil, err
	}
	return page, nil
}

// Kinds returns every job kind and the server's JSON of the list.
func (c *Client) Kinds(ctx context.Context) ([]Kind, []byte, error) {
	var out struct {
		Kinds []Kind `json:"kinds"`
	}
	raw, _, err := c.call(ctx, http.MethodGet, "/v1/kinds", nil, &out, http.StatusOK)
	if err != nil {
		return nil, nil, err
	}
	return out.Kinds, raw, nil
}

// Upload sends the file as a raw body (application/x-hdf5, or
// application/x-matlab-data for a .mat file) and returns the server's JSON
// description of the stored upload.
func (c *Client) Upload(ctx context.Context, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	req, err := c.newRequest(ctx, http.MethodPost, "/v1/uploads", f)
	if err != nil {
		return nil, err
	}
	req.ContentLength = st.Size()
	ct := "application/x-hdf5"
	if strings.EqualFold(filepath.Ext(path), ".mat") {
		ct = "application/x-matlab-data"
	}
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Accept", "application/json")
	resp, err := c.do(req, http.StatusCreated, http.StatusOK)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	return io.ReadAll(resp.Body)
}

// isAPIError reports whether err is an answer of the server (as opposed to a
// network failure), and returns it.
func isAPIError(err error) (*APIError, bool) {
	var e *APIError
	ok := errors.As(err, &e)
	return e, ok
}
