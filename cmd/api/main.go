// Command api serves Eddy's HTTP API. On the embedded default (SQLite) it also runs
// the job workers in-process; with DATABASE_URL=postgres://… it only inserts jobs,
// and cmd/worker processes run them.
//
//	api [flags]          serve
//	api migrate [flags]  apply the database migrations and exit
package main

import (
	"flag"
	"fmt"
	"os"

	"eddy/internal/daemon"
)

func main() {
	args := os.Args[1:]
	migrate := len(args) > 0 && args[0] == "migrate"
	if migrate {
		args = args[1:]
	}
	fs := flag.NewFlagSet("api", flag.ExitOnError)
	cfg := daemon.Flags(fs, -1)
	fs.Parse(args)
	err := cfg.Resolve()
	if err == nil {
		if migrate {
			err = daemon.Migrate(cfg)
		} else {
			err = daemon.RunAPI(cfg)
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "api:", err)
		os.Exit(1)
	}
}
