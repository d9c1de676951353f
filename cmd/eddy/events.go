package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"
)

// errStreamIdle ends an event stream that sent nothing, not even a keep-alive
// comment, for longer than the idle limit.
var errStreamIdle = errors.New("event stream went silent")

// Stream follows GET /v1/jobs/{id}/events, calling fn with the job of every "job"
// event, until the job is final (it then returns that job), the stream breaks or
// stays silent for idle, or ctx ends. The last job seen is returned with an error
// too, so that a caller can carry on by other means.
func (c *Client) Stream(ctx context.Context, id string, idle time.Duration, fn func(*Job)) (*Job, error) {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	timer := time.AfterFunc(idle, cancel)
	defer timer.Stop()

	req, err := c.newRequest(sctx, http.MethodGet, jobPath(id)+"/events", nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := c.do(req, http.StatusOK)
	if err != nil {
		return nil, idleErr(ctx, sctx, err)
	}
	defer resp.Body.Close()
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "text/event-stream" {
		return nil, fmt.Errorf("event stream: unexpected content type %q", resp.Header.Get("Content-Type"))
	}

	var last *Job
	err = readEvents(resp.Body, func(event, data string) error {
		timer.Reset(idle)
		if event != "job" || data == "" {
			return nil
		}
		j := new(Job)
		if err := json.Unmarshal([]byte(data), j); err != nil {
			return fmt.Errorf("event stream: malformed job event: %w", err)
		}
		last = j
		fn(j)
		if j.Final() {
			return errDone
		}
		return nil
	})
	switch {
	case errors.Is(err, errDone):
		return last, nil
	case err == nil:
		return last, fmt.Errorf("event stream ended before the job finished: %w", io.ErrUnexpectedEOF)
	default:
		return last, idleErr(ctx, sctx, err)
	}
}

// errDone stops readEvents once the job is final.
var errDone = errors.New("done")

// idleErr tells a stream cut by the idle timer from other failures.
func idleErr(parent, stream context.Context, err error) error {
	if parent.Err() == nil && stream.Err() != nil {
		return errStreamIdle
	}
	return err
}

// readEvents parses a text/event-stream body (the WHATWG server-sent events
// format): "field: value" lines, events ended by a blank line, data lines joined
// with newlines, comment lines starting with ':'. It calls fn for each event and
// for each comment (with an empty event name), stopping at the first error fn
// returns, which it passes on.
func readEvents(r io.Reader, fn func(event, data string) error) error {
	br := bufio.NewReader(r)
	var (
		event string
		data  []string
	)
	for {
		line, err := br.ReadString('\n')
		if err != nil && (err != io.EOF || line == "") {
			if err == io.EOF {
				return nil
			}
			return err
		}
		line = strings.TrimRight(line, "\r\n")
		switch {
		case line == "":
			if len(data) > 0 || event != "" {
				name := event
				if name == "" {
					name = "message"
				}
				if err := fn(name, strings.Join(data, "\n")); err != nil {
					return err
				}
			}
			event, data = "", nil
		case strings.HasPrefix(line, ":"):
			if err := fn("", ""); err != nil {
				return err
			}
		default:
			field, value, _ := strings.Cut(line, ":")
			value = strings.TrimPrefix(value, " ")
			switch field {
			case "event":
				event = value
			case "data":
				data = append(data, value)
			}
		}
	}
}

// Follow reports every change of the job to fn until it is final, and returns it.
// It listens to the event stream and falls back to polling GET /v1/jobs/{id}
// every poll when the stream is unavailable or breaks. Network failures while
// polling are retried a few times; answers of the server are returned as errors.
func (c *Client) Follow(ctx context.Context, id string, poll, idle time.Duration, fn func(*Job)) (*Job, error) {
	job, err := c.Stream(ctx, id, idle, fn)
	if err == nil {
		return job, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if e, ok := isAPIError(err); ok && e.Status == http.StatusUnauthorized {
		return nil, err
	}
	failures := 0
	for {
		j, _, err := c.Job(ctx, id)
		switch {
		case err == nil:
			failures = 0
			fn(j)
			if j.Final() {
				return j, nil
			}
		case ctx.Err() != nil:
			return nil, ctx.Err()
		default:
			if _, ok := isAPIError(err); ok {
				return nil, err
			}
			if failures++; failures >= 5 {
				return nil, err
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(poll << min(failures, 4)):
		}
	}
}
