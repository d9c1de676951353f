package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

const defaultServer = "http://127.0.0.1:8080"

const usageText = `eddy is the command-line client of the Eddy solver service.

usage: eddy [--server URL] [--token TOKEN] COMMAND [ARGS]

commands:
  submit KIND [-p key=value]... [-i name=id]... [--params JSON] [--params-file F]
              [--idempotency-key K] [--wait]
                        submit a job and print its id; --wait follows it to the end
  status ID [--json]    show a job
  watch ID              follow a job's progress until it ends
  list [--kind K] [--state S] [--limit N] [--all] [--json]
                        list jobs, newest first
  cancel ID...          cancel jobs
  delete [--upload] ID...
                        delete ended jobs (record and result), or uploads; refused
                        while a queued or running job needs them
  get ID [-o FILE]      download a job's HDF5 result (FILE "-" is standard output),
                        verify its SHA-256, resume a partial FILE
  upload FILE           upload an HDF5 (or MAT) file to use as a job input
  plot ID [NAME] [-o FILE] [--format png|svg] [-s axis=index]...
                        write a plot of a job's result drawn by the server (a
                        field as a heatmap, a history or spectrum as curves);
                        without NAME, list the job's plots
  kinds [KIND]... [--json]
                        list job kinds with their params and defaults
  encode -m MODEL [--coding range|png] IN OUT
                        code a local PNG, JPEG or WAV file into a WaLLoC .wlc
                        file with a model file of walloc.train (no server)
  decode -m MODEL IN OUT
                        reconstruct a .wlc file as OUT.png or OUT.wav (no server)
  help [COMMAND]        show help

Every command also takes --server (env EDDY_SERVER, default ` + defaultServer + `)
and --token (env EDDY_TOKEN, sent as a bearer token).

Exit status: 0 on success; 1 when the server rejects a request, a job fails or is
cancelled, or anything else goes wrong; 2 for a malformed command line; 130 when
interrupted (a followed job carries on).
`

// cli is one invocation of the command: where it writes, how it reaches the
// server and how often it polls.
type cli struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	getenv         func(string) string
	// httpClient is used for every request (default: http.DefaultClient).
	httpClient *http.Client
	// poll is the polling interval when the event stream is unavailable.
	poll time.Duration
	// idle is how long an event stream may stay silent (the server sends a
	// keep-alive comment every 15 s).
	idle time.Duration

	server, token string
}

// usageError is a malformed command line (exit status 2).
type usageError struct{ cmd, msg string }

func (e *usageError) Error() string { return e.msg }

// jobEndedError reports a followed job that did not succeed.
type jobEndedError struct{ job *Job }

func (e *jobEndedError) Error() string {
	if e.job.State == "failed" && e.job.Error != nil {
		return fmt.Sprintf("job %s failed: %s", e.job.ID, *e.job.Error)
	}
	return fmt.Sprintf("job %s ended %s", e.job.ID, e.job.State)
}

type command struct {
	run     func(c *cli, ctx context.Context, args []string) error
	summary string
}

var commands map[string]command

func init() {
	commands = map[string]command{
		"submit":  {(*cli).submit, "KIND [-p key=value]... [-i name=id]... [--params JSON] [--params-file F] [--idempotency-key K] [--wait]"},
		"status":  {(*cli).status, "ID [--json]"},
		"watch":   {(*cli).watch, "ID"},
		"list":    {(*cli).list, "[--kind K] [--state S] [--limit N] [--cursor C] [--all] [--json]"},
		"cancel":  {(*cli).cancel, "ID..."},
		"delete":  {(*cli).delete, "[--upload] ID..."},
		"get":     {(*cli).get, "ID [-o FILE]"},
		"upload":  {(*cli).upload, "FILE"},
		"uploads": {(*cli).uploads, "[--limit N] [--cursor C] [--all] [--json]"},
		"plot":    {(*cli).plot, "ID [NAME] [-o FILE] [--format png|svg] [-s axis=index]..."},
		"kinds":   {(*cli).kinds, "[KIND]... [--json]"},
		"encode":  {(*cli).encode, "-m MODEL [--coding range|png] IN OUT"},
		"decode":  {(*cli).decode, "-m MODEL IN OUT"},
	}
}

// run executes the command line args and returns the exit status.
func (c *cli) run(ctx context.Context, args []string) int {
	if c.getenv == nil {
		c.getenv = os.Getenv
	}
	if c.stdin == nil {
		c.stdin = strings.NewReader("")
	}
	if c.poll <= 0 {
		c.poll = time.Second
	}
	if c.idle <= 0 {
		c.idle = 45 * time.Second
	}
	c.server = c.getenv("EDDY_SERVER")
	if c.server == "" {
		c.server = defaultServer
	}
	c.token = c.getenv("EDDY_TOKEN")

	fs := flag.NewFlagSet("eddy", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c.globalFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(c.stdout, usageText)
			return 0
		}
		return c.fail(&usageError{msg: err.Error()})
	}
	args = fs.Args()
	if len(args) == 0 {
		fmt.Fprint(c.stderr, usageText)
		return 2
	}
	name, rest := args[0], args[1:]
	if name == "help" {
		return c.help(rest)
	}
	cmd, ok := commands[name]
	if !ok {
		return c.fail(&usageError{msg: fmt.Sprintf("unknown command %q", name)})
	}
	return c.fail(cmd.run(c, ctx, rest))
}

func (c *cli) help(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stdout, usageText)
		return 0
	}
	if _, ok := commands[args[0]]; !ok {
		return c.fail(&usageError{msg: fmt.Sprintf("unknown command %q", args[0])})
	}
	c.commandUsage(c.stdout, args[0])
	return 0
}

// commandUsage prints a command's synopsis and flags: the command's own flag set
// prints them when given -h.
func (c *cli) commandUsage(w io.Writer, name string) {
	sub := *c
	sub.stdout, sub.stderr = io.Discard, w
	commands[name].run(&sub, context.Background(), []string{"-h"})
}

// fail prints err (if any) and maps it to an exit status.
func (c *cli) fail(err error) int {
	if err == nil {
		return 0
	}
	var ue *usageError
	var je *jobEndedError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(c.stderr, "eddy:", ue.msg)
		if ue.cmd != "" {
			fmt.Fprintf(c.stderr, "usage: eddy %s %s\n", ue.cmd, commands[ue.cmd].summary)
		} else {
			fmt.Fprintln(c.stderr, "run 'eddy help' for the list of commands")
		}
		return 2
	case errors.As(err, &je):
		fmt.Fprintln(c.stderr, "eddy:", err)
		return 1
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(c.stderr, "eddy: interrupted")
		return 130
	}
	fmt.Fprintln(c.stderr, "eddy:", err)
	if e, ok := isAPIError(err); ok && e.Status == http.StatusUnauthorized {
		fmt.Fprintln(c.stderr, "  (pass a token with --token or EDDY_TOKEN)")
	}
	return 1
}

func (c *cli) globalFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.server, "server", c.server, "Eddy server URL (env EDDY_SERVER)")
	fs.StringVar(&c.token, "token", c.token, "bearer token (env EDDY_TOKEN)")
}

// newFlagSet returns a command's flag set, with the global flags.
func (c *cli) newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("eddy "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: eddy %s %s\n", name, commands[name].summary)
		fs.PrintDefaults()
	}
	c.globalFlags(fs)
	return fs
}

// parse parses flags and positional arguments in any order ("submit KIND -p n=1"
// as well as "submit -p n=1 KIND"); everything after "--" is positional. It
// checks that between min and max (-1: any) positional arguments were given.
func (c *cli) parse(fs *flag.FlagSet, args []string, min, max int) ([]string, error) {
	name := strings.TrimPrefix(fs.Name(), "eddy ")
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{cmd: name, msg: err.Error()}
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			pos = append(pos, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
	switch {
	case len(pos) < min:
		return nil, &usageError{cmd: name, msg: "missing arguments"}
	case max >= 0 && len(pos) > max:
		return nil, &usageError{cmd: name, msg: fmt.Sprintf("unexpected arguments: %s", strings.Join(pos[max:], " "))}
	}
	return pos, nil
}

// start parses a command's arguments (see parse) and returns the positional
// ones and a client of the server.
func (c *cli) start(fs *flag.FlagSet, args []string, min, max int) ([]string, *Client, error) {
	pos, err := c.parse(fs, args, min, max)
	if err != nil {
		return nil, nil, err
	}
	cl, err := c.client()
	if err != nil {
		return nil, nil, err
	}
	return pos, cl, nil
}

func (c *cli) client() (*Client, error) {
	cl, err := NewClient(c.server, c.token, c.httpClient)
	if err != nil {
		return nil, &usageError{msg: "--server: " + err.Error()}
	}
	return cl, nil
}

func (c *cli) submit(ctx context.Context, args []string) error {
	fs := c.newFlagSet("submit")
	var pairs, inputs listFlag
	fs.Var(&pairs, "p", "a param as `key=value` (repeatable); the value is JSON when it parses as JSON, else a string (a number or boolean as its text for a string param)")
	fs.Var(&inputs, "i", "an input as `name=id` of an upload or an earlier job (repeatable)")
	paramsText := fs.String("params", "", "params as a JSON `object` (-p pairs override its fields)")
	paramsFile := fs.String("params-file", "", "read params from a JSON `file` (\"-\": standard input)")
	key := fs.String("idempotency-key", "", "resubmitting with the same `key` returns the earlier job")
	wait := fs.Bool("wait", false, "follow the job to its end; exit status 1 unless it succeeds")
	pos, cl, err := c.start(fs, args, 1, 1)
	if err != nil {
		return err
	}
	// A number, boolean or null given for a string param (an expression
	// "0", say) is sent as its text: the kind's schema says which params are
	// strings, asked only when a pair needs it.
	var asString func(string) bool
	if scalarPairs(pairs) {
		if kinds, _, err := cl.Kinds(ctx); err == nil {
			for _, k := range kinds {
				if k.Name == pos[0] {
					asString = stringParam(k.ParamsSchema)
				}
			}
		}
	}
	params, err := buildParams(*paramsFile, *paramsText, pairs, c.stdin, asString)
	if err != nil {
		return &usageError{cmd: "submit", msg: err.Error()}
	}
	in, err := buildInputs(inputs)
	if err != nil {
		return &usageError{cmd: "submit", msg: err.Error()}
	}
	job, created, err := cl.Submit(ctx, SubmitRequest{Kind: pos[0], Params: params, Inputs: in, IdempotencyKey: *key})
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, job.ID)
	if !created {
		fmt.Fprintln(c.stderr, "eddy: this idempotency key was used before; that job is returned")
	}
	if !*wait {
		return nil
	}
	return c.follow(ctx, cl, job.ID)
}

func (c *cli) watch(ctx context.Context, args []string) error {
	fs := c.newFlagSet("watch")
	pos, cl, err := c.start(fs, args, 1, 1)
	if err != nil {
		return err
	}
	return c.follow(ctx, cl, pos[0])
}

// follow shows the job's progress on stderr until it ends, then its summary on
// stdout.
func (c *cli) follow(ctx context.Context, cl *Client, id string) error {
	bar := newProgressBar(c.stderr, c.getenv)
	job, err := cl.Follow(ctx, id, c.poll, c.idle, bar.Update)
	bar.Done()
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(c.stderr, "eddy: stopped watching; job %s carries on (eddy watch %s)\n", id, id)
		}
		return err
	}
	printJob(c.stdout, job)
	if job.State != "succeeded" {
		return &jobEndedError{job}
	}
	return nil
}

func (c *cli) status(ctx context.Context, args []string) error {
	fs := c.newFlagSet("status")
	asJSON := fs.Bool("json", false, "print the job's JSON as the server sends it")
	pos, cl, err := c.start(fs, args, 1, 1)
	if err != nil {
		return err
	}
	job, raw, err := cl.Job(ctx, pos[0])
	if err != nil {
		return err
	}
	if *asJSON {
		c.stdout.Write(raw)
		return nil
	}
	printJob(c.stdout, job)
	return nil
}

func (c *cli) list(ctx context.Context, args []string) error {
	fs := c.newFlagSet("list")
	var q ListQuery
	fs.StringVar(&q.Kind, "kind", "", "only jobs of this `kind`")
	fs.StringVar(&q.State, "state", "", "only jobs in this `state` (queued, running, succeeded, failed, cancelled)")
	fs.IntVar(&q.Limit, "limit", 20, "at most `n` jobs (with --all: per request)")
	fs.StringVar(&q.Cursor, "cursor", "", "start after the page that returned this `cursor`")
	all := fs.Bool("all", false, "follow next_cursor through every page")
	asJSON := fs.Bool("json", false, "print the jobs as a JSON array")
	_, cl, err := c.start(fs, args, 0, 0)
	if err != nil {
		return err
	}
	if q.Limit < 1 {
		return &usageError{cmd: "list", msg: "--limit must be at least 1"}
	}
	var jobs []Job
	var next *string
	for {
		page, err := cl.ListJobs(ctx, q)
		if err != nil {
			return err
		}
		jobs = append(jobs, page.Jobs...)
		next = page.NextCursor
		if !*all || next == nil || *next == "" || len(page.Jobs) == 0 {
			break
		}
		q.Cursor = *next
	}
	if *asJSON {
		return writeJSON(c.stdout, nonNilJobs(jobs))
	}
	printJobTable(c.stdout, jobs)
	if !*all && next != nil && *next != "" {
		fmt.Fprintf(c.stderr, "more jobs: eddy list --cursor %s (or --all)\n", *next)
	}
	return nil
}

func nonNilJobs(j []Job) []Job {
	if j == nil {
		return []Job{}
	}
	return j
}

func (c *cli) cancel(ctx context.Context, args []string) error {
	fs := c.newFlagSet("cancel")
	pos, cl, err := c.start(fs, args, 1, -1)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range pos {
		job, err := cl.Cancel(ctx, id)
		if err != nil {
			errs = append(errs, fmt.Errorf("cancel %s: %w", id, err))
			continue
		}
		switch job.State {
		case "cancelled":
			fmt.Fprintf(c.stdout, "%s cancelled\n", id)
		case "running", "queued":
			fmt.Fprintf(c.stdout, "%s cancellation requested (the job is %s; it stops within seconds)\n", id, job.State)
		default:
			fmt.Fprintf(c.stdout, "%s already %s\n", id, job.State)
		}
	}
	return errors.Join(errs...)
}

func (c *cli) delete(ctx context.Context, args []string) error {
	fs := c.newFlagSet("delete")
	upload := fs.Bool("upload", false, "the ids are uploads, not jobs")
	pos, cl, err := c.start(fs, args, 1, -1)
	if err != nil {
		return err
	}
	var errs []error
	for _, id := range pos {
		if err := cl.Delete(ctx, id, *upload); err != nil {
			errs = append(errs, fmt.Errorf("delete %s: %w", id, err))
			continue
		}
		fmt.Fprintf(c.stdout, "%s deleted\n", id)
	}
	return errors.Join(errs...)
}

func (c *cli) get(ctx context.Context, args []string) error {
	fs := c.newFlagSet("get")
	out := fs.String("o", "", "write the result to `file` (default ID.h5; \"-\": standard output)")
	pos, cl, err := c.start(fs, args, 1, 1)
	if err != nil {
		return err
	}
	id := pos[0]
	if *out == "-" {
		d, err := cl.StreamResult(ctx, id, c.stdout)
		if err != nil {
			return err
		}
		fmt.Fprintf(c.stderr, "%d bytes, sha256 %s verified\n", d.Bytes, d.SHA256)
		return nil
	}
	path := *out
	if path == "" {
		path = id + ".h5"
	}
	d, err := cl.DownloadResult(ctx, id, path)
	if err != nil {
		return err
	}
	switch {
	case d.AlreadyComplete:
		fmt.Fprintf(c.stdout, "%s is already complete: %d bytes, sha256 %s verified\n", path, d.Bytes, d.SHA256)
	case d.ResumedAt > 0:
		fmt.Fprintf(c.stdout, "%s resumed at byte %d: %d bytes, sha256 %s verified\n", path, d.ResumedAt, d.Bytes, d.SHA256)
	default:
		fmt.Fprintf(c.stdout, "%s written: %d bytes, sha256 %s verified\n", path, d.Bytes, d.SHA256)
	}
	return nil
}

func (c *cli) upload(ctx context.Context, args []string) error {
	fs := c.newFlagSet("upload")
	pos, cl, err := c.start(fs, args, 1, 1)
	if err != nil {
		return err
	}
	raw, err := cl.Upload(ctx, pos[0])
	if err != nil {
		return err
	}
	c.stdout.Write(raw)
	return nil
}

// uploads lists the caller's uploads, newest first, like list does jobs.
func (c *cli) uploads(ctx context.Context, args []string) error {
	fs := c.newFlagSet("uploads")
	limit := fs.Int("limit", 20, "at most `n` uploads (with --all: per request)")
	cursor := fs.String("cursor", "", "start after the page that returned this `cursor`")
	all := fs.Bool("all", false, "follow next_cursor through every page")
	asJSON := fs.Bool("json", false, "print the uploads as a JSON array")
	_, cl, err := c.start(fs, args, 0, 0)
	if err != nil {
		return err
	}
	if *limit < 1 {
		return &usageError{cmd: "uploads", msg: "--limit must be at least 1"}
	}
	ups := []Upload{}
	var next *string
	for {
		page, err := cl.ListUploads(ctx, *limit, *cursor)
		if err != nil {
			return err
		}
		ups = append(ups, page.Uploads...)
		next = page.NextCursor
		if !*all || next == nil || *next == "" || len(page.Uploads) == 0 {
			break
		}
		*cursor = *next
	}
	if *asJSON {
		return writeJSON(c.stdout, ups)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tFORMAT\tBYTES\tCREATED\tFILE\tDATASETS")
	for _, u := range ups {
		var ds []string
		for _, d := range u.Datasets {
			ds = append(ds, fmt.Sprintf("%s %s %v", d.Name, d.Dtype, d.Shape))
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\n", u.ID, u.Format, u.Bytes, clock(u.CreatedAt), u.Filename, truncate(strings.Join(ds, ", "), 60))
	}
	tw.Flush()
	if !*all && next != nil && *next != "" {
		fmt.Fprintf(c.stderr, "more uploads: eddy uploads --cursor %s (or --all)\n", *next)
	}
	return nil
}

func (c *cli) kinds(ctx context.Context, args []string) error {
	fs := c.newFlagSet("kinds")
	asJSON := fs.Bool("json", false, "print the server's JSON")
	names, cl, err := c.start(fs, args, 0, -1)
	if err != nil {
		return err
	}
	kinds, raw, err := cl.Kinds(ctx)
	if err != nil {
		return err
	}
	if *asJSON && len(names) == 0 {
		c.stdout.Write(raw)
		return nil
	}
	var shown []Kind
	for _, k := range kinds {
		if len(names) == 0 || slices.Contains(names, k.Name) {
			shown = append(shown, k)
		}
	}
	for _, n := range names {
		if !slices.ContainsFunc(shown, func(k Kind) bool { return k.Name == n }) {
			return fmt.Errorf("no job kind %q (eddy kinds lists them)", n)
		}
	}
	if *asJSON {
		return writeJSON(c.stdout, shown)
	}
	for i, k := range shown {
		if i > 0 {
			fmt.Fprintln(c.stdout)
		}
		printKind(c.stdout, k)
	}
	return nil
}
