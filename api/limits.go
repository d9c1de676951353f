package api

import (
	"io"
	"net/http"
	"time"
)

// Time limits of a request, beyond the server's own (ReadHeaderTimeout and
// IdleTimeout, set where the http.Server is made: see ServerTimeouts).
const (
	// requestTimeout bounds an ordinary request: reading its body, producing and
	// writing the answer. (The read deadline also bounds the handler: once the
	// body is read, net/http watches the connection, and a read deadline that
	// passes cancels the request's context.)
	requestTimeout = 60 * time.Second
	// uploadAnswer bounds inspecting an upload once its body has arrived and
	// writing the answer.
	uploadAnswer = 10 * time.Minute
	// uploadIdle is how long an upload body may pause: each read that brings
	// bytes extends the deadline, so a large upload on a slow link goes through
	// while a stalled one is cut off.
	uploadIdle = 30 * time.Second
)

// ServerTimeouts are the connection-level limits for the http.Server in front of
// the handler: a client has ReadHeader to send its headers and a kept-alive
// connection closes after Idle without a request. Per-route deadlines (ordinary
// requests, uploads; none for downloads and event streams) are set by the handler.
var ServerTimeouts = struct{ ReadHeader, Idle time.Duration }{10 * time.Second, 120 * time.Second}

// bounded sets read and write deadlines for an ordinary request.
func bounded(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		rc.SetReadDeadline(now.Add(requestTimeout))
		rc.SetWriteDeadline(now.Add(requestTimeout))
		next.ServeHTTP(w, r)
	})
}

// streaming lifts the deadlines for downloads and event streams, which last as
// long as the client reads.
func streaming(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		rc.SetReadDeadline(time.Time{})
		rc.SetWriteDeadline(time.Time{})
		next.ServeHTTP(w, r)
	})
}

// uploading lets an upload body take as long as it keeps arriving (see
// uploadIdle); once it has arrived, inspecting it and answering have uploadAnswer.
func uploading(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		rc.SetWriteDeadline(time.Time{})
		rc.SetReadDeadline(time.Now().Add(uploadIdle))
		r.Body = &idleBody{ReadCloser: r.Body, rc: rc}
		next.ServeHTTP(w, r)
	})
}

type idleBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	last time.Time
}

func (b *idleBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	now := time.Now()
	switch {
	case err == io.EOF:
		b.rc.SetReadDeadline(time.Time{})
		b.rc.SetWriteDeadline(now.Add(uploadAnswer))
	case n > 0 && now.Sub(b.last) > time.Second:
		// Moving the deadline costs a system call: once a second is enough.
		b.last = now
		b.rc.SetReadDeadline(now.Add(uploadIdle))
	}
	return n, err
}
