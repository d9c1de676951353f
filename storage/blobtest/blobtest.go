// Package blobtest runs an in-process S3-compatible server (gofakes3, in
// memory) on the loopback interface for tests of the object-store backend.
package blobtest

import (
	"io"
	"log"
	"net"
	"net/http"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

// Server is a running S3-compatible server.
type Server struct {
	// Endpoint is the server's base URL, http://127.0.0.1:port.
	Endpoint string
	backend  *s3mem.Backend
}

// Start starts a server, stopped when the test ends, with one empty bucket
// named bucket. It sets the AWS credential variables for the test (any
// credentials are accepted) so that clients in this process, and the
// processes it starts with its environment, sign their requests.
func Start(t testing.TB, bucket string) *Server {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	faker := gofakes3.New(backend)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	// The fake's own slips (a repeated WriteHeader) would only clutter the
	// test's output.
	srv := &http.Server{Handler: faker.Server(), ErrorLog: log.New(io.Discard, "", 0)}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	t.Setenv("AWS_ACCESS_KEY_ID", "eddy-test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "eddy-test-secret")
	t.Setenv("AWS_REGION", "us-east-1")
	return &Server{Endpoint: "http://" + ln.Addr().String(), backend: backend}
}

// URL is the gocloud.dev/blob URL of bucket on the server.
func (s *Server) URL(bucket string) string {
	return "s3://" + bucket + "?endpoint=" + s.Endpoint + "&region=us-east-1&use_path_style=true"
}

// Keys lists the objects of bucket, for tests that check what a store left.
func (s *Server) Keys(t testing.TB, bucket string) []string {
	t.Helper()
	list, err := s.backend.ListBucket(bucket, nil, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, c := range list.Contents {
		keys = append(keys, c.Key)
	}
	return keys
}
