// Command api serves Eddy's HTTP API. On the embedded default (SQLite) it also runs
// the job workers in-process; with DATABASE_URL=postgres://… it only inserts jobs,
// and cmd/worker processes run them.
//
//	api [flags]                    serve
//	api migrate [flags]            apply the database migrations and exit
//	api token create [-scope user|admin] [-name N] [-owner O] [flags]
//	                               store a new bearer token (hashed) and print it once
//	api token list [flags]         list tokens: id, name, owner, scope, created, last used
//	api token revoke [flags] ID    revoke a token
package main

import (
	"flag"
	"fmt"
	"os"

	"eddy/internal/daemon"
)

func main() {
	args := os.Args[1:]
	if len(args) > 0 && args[0] == "token" {
		if err := tokenCommand(args[1:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, "api:", err)
			os.Exit(1)
		}
		return
	}
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
