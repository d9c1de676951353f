package api_test

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"
)

// HEAD of a result answers like GET without the body (RFC 9110 §9.3.2).
func TestResultHead(t *testing.T) {
	e := start(t, "sqlite")
	_, j, _ := e.submit(t, `{"kind":"poisson.solve","params":{"n":8}}`)
	j = e.wait(t, j.ID, 30*time.Second, "succeeded")
	resp, b := e.do(t, "HEAD", j.Result.URL, "", nil)
	if resp.StatusCode != 200 || len(b) != 0 || resp.ContentLength != j.Result.Bytes ||
		!strings.Contains(resp.Header.Get("ETag"), j.Result.SHA256) {
		t.Fatalf("HEAD result: %d, length %d, ETag %q", resp.StatusCode, resp.ContentLength, resp.Header.Get("ETag"))
	}
}

// Trailing data after the JSON object is malformed, whatever it is.
func TestTrailingCloserIsMalformed(t *testing.T) {
	e := start(t, "sqlite")
	for _, body := range []string{`{"kind":"poisson.solve","params":{"n":8}}}`, `{"kind":"poisson.solve","params":{"n":8}}]`} {
		if code, j, _ := e.submit(t, body); code != http.StatusBadRequest {
			t.Errorf("%s: %d (job %q)", body, code, j.ID)
		}
	}
}

// Ids, cursors and keys that are not valid text are client errors on both
// databases (PostgreSQL refuses such strings as query parameters).
func TestInvalidTextInIdsIs4xx(t *testing.T) {
	forDialects(t, func(t *testing.T, dialect string) {
		e := start(t, dialect)
		for path, want := range map[string]int{
			"/v1/jobs/%FF":         404,
			"/v1/jobs/a%00b":       404,
			"/v1/jobs/%FF/result":  404,
			"/v1/jobs/%FF/events":  404,
			"/v1/uploads/%FF":      404,
			"/v1/jobs?cursor=_w":   400,
			"/v1/jobs?cursor=YQBi": 400,
			"/v1/jobs?cursor=YWJj": 200,
		} {
			if resp, b := e.do(t, "GET", path, "", nil); resp.StatusCode != want {
				t.Errorf("GET %s: %d, want %d: %s", path, resp.StatusCode, want, b)
			}
		}
		if resp, b := e.do(t, "POST", "/v1/jobs/%FF/cancel", "", nil); resp.StatusCode != 404 {
			t.Errorf("cancel: %d %s", resp.StatusCode, b)
		}
		if code, _, p := e.submit(t, `{"kind":"poisson.solve","idempotency_key":"a\u0000b"}`); code != 422 {
			t.Errorf("NUL in idempotency key: %d %+v", code, p)
		}
		var mp bytes.Buffer
		mw := multipart.NewWriter(&mp)
		fw, _ := mw.CreateFormFile("file", "cube\xff.h5")
		fw.Write(writeH5(t))
		mw.Close()
		if resp, b := e.do(t, "POST", "/v1/uploads", mw.FormDataContentType(), &mp); resp.StatusCode != 201 {
			t.Errorf("upload named with invalid UTF-8: %d %s", resp.StatusCode, b)
		}
	})
}
