// Command worker runs Eddy jobs from the shared database (normally PostgreSQL,
// DATABASE_URL=postgres://…); start any number of them on any machines that share
// the data directory. SIGTERM interrupts running jobs and returns them to the queue.
package main

import (
	"flag"
	"fmt"
	"os"

	"eddy/internal/daemon"
)

func main() {
	fs := flag.NewFlagSet("worker", flag.ExitOnError)
	cfg := daemon.Flags(fs, 2)
	fs.Parse(os.Args[1:])
	err := cfg.Resolve()
	if err == nil {
		err = daemon.RunWorker(cfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(1)
	}
}
