package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"eddy/internal/daemon"
	"eddy/storage"
)

const tokenUsage = `usage:
  api token create [-scope user|admin] [-name N] [-owner O] [flags]
  api token list [flags]
  api token revoke [flags] ID
The database is the server's (-database-url, -data-dir, or their environment variables).`

// tokenCommand runs "api token create|list|revoke" against the database, and
// writes what it did to out. A created token is shown once, as the last word
// of the last line; only its SHA-256 is stored.
func tokenCommand(args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(tokenUsage)
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(out, tokenUsage)
		return nil
	}
	fs := flag.NewFlagSet("api token "+sub, flag.ContinueOnError)
	fs.SetOutput(out)
	cfg := daemon.Flags(fs, -1)
	var scope, name, owner string
	if sub == "create" {
		fs.StringVar(&scope, "scope", "user", "user (its owner's jobs and uploads) or admin (everything, /metrics)")
		fs.StringVar(&name, "name", "", "a name to recognise the token by in the list")
		fs.StringVar(&owner, "owner", "", "whose jobs and uploads the token acts for (default: the name, or the token's id); tokens of one owner share them")
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil // the flag set printed its flags
	} else if err != nil {
		return err
	}
	if err := cfg.Resolve(); err != nil {
		return err
	}
	ctx := context.Background()
	switch sub {
	case "create", "list", "revoke":
	default:
		return fmt.Errorf("unknown token command %q\n%s", sub, tokenUsage)
	}
	db, err := daemon.Open(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	switch sub {
	case "create":
		if fs.NArg() != 0 {
			return fmt.Errorf("token create takes no arguments\n%s", tokenUsage)
		}
		secret := storage.NewSecret()
		if owner == "" {
			owner = name
		}
		anonymousID := owner == ""
		if anonymousID {
			owner = "pending"
		}
		t, err := storage.InsertToken(ctx, db.SQL, secret, name, owner, storage.Scope(scope), time.Now())
		if err != nil {
			return err
		}
		if anonymousID {
			// The owner is the token's own id, known once it is stored.
			if _, err := db.SQL.ExecContext(ctx, `UPDATE tokens SET owner = id WHERE id = $1`, t.ID); err != nil {
				return err
			}
			t.Owner = t.ID
		}
		fmt.Fprintf(out, "created token %s (name %q, owner %s, scope %s); it is shown only now:\n", t.ID, t.Name, t.Owner, t.Scope)
		fmt.Fprintf(out, "token: %s\n", secret)
	case "list":
		tokens, err := storage.ListTokens(ctx, db.Read)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tOWNER\tSCOPE\tCREATED\tLAST USED\tSTATE")
		for _, t := range tokens {
			used, state := "never", "valid"
			if !t.LastUsedAt.IsZero() {
				used = t.LastUsedAt.Format(time.RFC3339)
			}
			if !t.RevokedAt.IsZero() {
				state = "revoked " + t.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, t.Owner, t.Scope, t.CreatedAt.Format(time.RFC3339), used, state)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return fmt.Errorf("token revoke takes one token id\n%s", tokenUsage)
		}
		id := fs.Arg(0)
		tokens, err := storage.ListTokens(ctx, db.Read)
		if err != nil {
			return err
		}
		for _, t := range tokens {
			if t.ID == id && !t.RevokedAt.IsZero() {
				// Revoking again changes nothing: say so rather than repeat it.
				fmt.Fprintf(out, "token %s was already revoked at %s\n", id, t.RevokedAt.Format(time.RFC3339))
				return nil
			}
		}
		if err := storage.RevokeToken(ctx, db.SQL, id, time.Now()); errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("no token with id %q (api token list shows them)", id)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(out, "revoked token %s\n", id)
	}
	return nil
}
