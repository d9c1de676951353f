package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
)

// Download describes a finished result download.
type Download struct {
	Bytes  int64
	SHA256 string
	// ResumedAt is the size of the partial file that was continued (0 when the
	// file was written from its start).
	ResumedAt int64
	// AlreadyComplete is set when the file was already whole and verified.
	AlreadyComplete bool
}

// errDigestMismatch is returned when the downloaded bytes do not hash to the
// SHA-256 the server published.
var errDigestMismatch = errors.New("SHA-256 mismatch")

// DownloadResult writes the result of a succeeded job to path and verifies its
// SHA-256 against the job's result.sha256 (and the X-Content-SHA256 header). When
// path exists and is shorter than the result, only the missing tail is requested
// (Range, guarded by If-Range on the digest); if the continued file then fails the
// check, it is downloaded once more from the start. A file that still fails the
// check is removed.
func (c *Client) DownloadResult(ctx context.Context, id, path string) (*Download, error) {
	job, _, err := c.Job(ctx, id)
	if err != nil {
		return nil, err
	}
	if job.State != "succeeded" || job.Result == nil {
		return nil, fmt.Errorf("job %s is %s; its result exists once it has succeeded", id, job.State)
	}
	want := strings.ToLower(job.Result.SHA256)

	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	have := st.Size()
	if have > 0 && have == job.Result.Bytes && want != "" {
		if sum, err := fileDigest(f); err == nil && sum == want {
			return &Download{Bytes: have, SHA256: sum, AlreadyComplete: true}, nil
		}
		have = 0
	}
	if have > job.Result.Bytes {
		have = 0
	}

	d, err := c.fetchResult(ctx, id, f, have, want)
	if errors.Is(err, errDigestMismatch) && d != nil && d.ResumedAt > 0 {
		// The partial file was not a prefix of this result: start over.
		d, err = c.fetchResult(ctx, id, f, 0, want)
	}
	if errors.Is(err, errDigestMismatch) {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("%w: %s was removed", err, path)
	}
	return d, err
}

// fetchResult downloads the result into f from offset from (0: the whole file),
// then checks the whole file's SHA-256 against want (or, when want is empty, the
// X-Content-SHA256 header). A 200 answer to a Range request rewrites f from the
// start.
func (c *Client) fetchResult(ctx context.Context, id string, f *os.File, from int64, want string) (*Download, error) {
	req, err := c.newRequest(ctx, http.MethodGet, jobPath(id)+"/result", nil)
	if err != nil {
		return nil, err
	}
	if from > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(from, 10)+"-")
		if want != "" {
			req.Header.Set("If-Range", `"`+want+`"`)
		}
	}
	resp, err := c.do(req, http.StatusOK, http.StatusPartialContent, http.StatusRequestedRangeNotSatisfiable)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusRequestedRangeNotSatisfiable:
		resp.Body.Close()
		return c.fetchResult(ctx, id, f, 0, want)
	case http.StatusOK:
		from = 0
	case http.StatusPartialContent:
		start, ok := contentRangeStart(resp.Header.Get("Content-Range"))
		if !ok || start != from {
			return nil, fmt.Errorf("server answered the range request from byte %d with %q", from, resp.Header.Get("Content-Range"))
		}
	}
	if hdr := strings.ToLower(resp.Header.Get("X-Content-SHA256")); hdr != "" {
		if want == "" {
			want = hdr
		} else if hdr != want {
			return nil, fmt.Errorf("the server reports two digests for the result: job %s, header %s", want, hdr)
		}
	}
	if err := f.Truncate(from); err != nil {
		return nil, err
	}
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return nil, err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		return nil, fmt.Errorf("downloading result: %w (run the same command again to resume)", err)
	}
	if err := f.Sync(); err != nil {
		return nil, err
	}
	sum, err := fileDigest(f)
	if err != nil {
		return nil, err
	}
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, err
	}
	d := &Download{Bytes: size, SHA256: sum, ResumedAt: from}
	if want == "" {
		return d, errors.New("the server published no SHA-256 for the result; nothing to verify against")
	}
	if sum != want {
		return d, fmt.Errorf("%w: got %s, want %s", errDigestMismatch, sum, want)
	}
	return d, nil
}

// contentRangeStart parses the first byte position of "bytes first-last/size".
func contentRangeStart(h string) (int64, bool) {
	spec, ok := strings.CutPrefix(h, "bytes ")
	if !ok {
		return 0, false
	}
	first, _, ok := strings.Cut(spec, "-")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(first, 10, 64)
	return n, err == nil
}

// fileDigest is the hex SHA-256 of the whole file.
func fileDigest(f *os.File) (string, error) {
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", err
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// StreamResult copies the result to w (no resume) and verifies the SHA-256 from
// the X-Content-SHA256 header once all bytes are through.
func (c *Client) StreamResult(ctx context.Context, id string, w io.Writer) (*Download, error) {
	req, err := c.newRequest(ctx, http.MethodGet, jobPath(id)+"/result", nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.do(req, http.StatusOK)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), resp.Body)
	if err != nil {
		return nil, fmt.Errorf("downloading result: %w", err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	d := &Download{Bytes: n, SHA256: sum}
	want := strings.ToLower(resp.Header.Get("X-Content-SHA256"))
	if want == "" {
		return d, errors.New("the server published no SHA-256 for the result; nothing to verify against")
	}
	if sum != want {
		return d, fmt.Errorf("%w: got %s, want %s", errDigestMismatch, sum, want)
	}
	return d, nil
}
