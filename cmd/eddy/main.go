// Command eddy is the command-line client of the Eddy solver service: it submits
// jobs and follows their progress, lists and cancels them, downloads results
// (verified by SHA-256, resumable), uploads input files and describes job kinds.
//
//	eddy submit poisson.solve -p dim=2 -p n=128 -p tol=1e-10 --wait
//	eddy get ID -o result.h5
//
// The server is --server or EDDY_SERVER (default http://127.0.0.1:8080); a bearer
// token is --token or EDDY_TOKEN. Run "eddy help" for every command.
package main

import (
	"context"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.ResponseHeaderTimeout = 2 * time.Minute
	c := &cli{
		stdout:     os.Stdout,
		stderr:     os.Stderr,
		stdin:      os.Stdin,
		getenv:     os.Getenv,
		httpClient: &http.Client{Transport: transport},
	}
	code := c.run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
