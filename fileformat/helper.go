package fileformat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"

	"eddy/hdf5io"
)

// The helper process is the running executable started again with
// helperEnv=helperInspectHDF5 and the file's path as its only argument. The
// init function of this package, which runs in every program that can call
// Inspect (and in every test binary that imports the package), recognises
// the variable, inspects the file, writes a helperReply as JSON to standard
// output and exits with status 0 before main or the tests start. Any other
// end of the process (a signal, an abort in libhdf5, a non-zero status, the
// timeout) means that libhdf5 gave up on a damaged file.
const (
	helperEnv         = "EDDY_HELPER"
	helperInspectHDF5 = "inspect-hdf5"
)

// helperMode is the value of helperEnv given to the helper; tests change it
// to start helpers that misbehave.
var helperMode = helperInspectHDF5

// helperAddressSpace bounds the virtual memory of the helper process, so
// that a file whose damaged structures ask libhdf5 for absurd allocations
// fails in the helper instead of starving the machine.
const helperAddressSpace = 8 << 30

// Bounds of what the caller keeps of the helper's output.
const (
	maxHelperStdout = 16 << 20
	maxHelperStderr = 64 << 10
)

// helperSlots bounds the number of helper processes at a time.
var helperSlots = make(chan struct{}, max(2, runtime.GOMAXPROCS(0)))

type helperReply struct {
	Datasets []Dataset `json:"datasets"`
	Error    string    `json:"error,omitempty"`
}

func init() {
	if os.Getenv(helperEnv) == helperInspectHDF5 {
		os.Exit(runHelper(os.Args[1:], os.Stdout))
	}
}

// runHelper inspects the HDF5 file named by args[0] and writes the reply to out.
func runHelper(args []string, out io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintf(os.Stderr, "%s=%s: want one argument, the file's path; got %d\n", helperEnv, helperInspectHDF5, len(args))
		return 2
	}
	lim := syscall.Rlimit{Cur: helperAddressSpace, Max: helperAddressSpace}
	if err := syscall.Setrlimit(syscall.RLIMIT_AS, &lim); err != nil {
		fmt.Fprintf(os.Stderr, "bounding the address space: %v\n", err)
	}
	var reply helperReply
	infos, err := hdf5io.Inspect(args[0])
	if err != nil {
		reply.Error = err.Error()
	} else {
		reply.Datasets = make([]Dataset, len(infos))
		for i, d := range infos {
			reply.Datasets[i] = Dataset{Name: d.Name, Shape: d.Shape, Dtype: d.Dtype}
		}
	}
	if err := json.NewEncoder(out).Encode(reply); err != nil {
		fmt.Fprintf(os.Stderr, "writing the reply: %v\n", err)
		return 1
	}
	return 0
}

// inspectHDF5 lists the datasets of the HDF5 file at path in a helper process.
func inspectHDF5(ctx context.Context, path string, lim Limits) ([]Dataset, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("fileformat: locating the executable for the HDF5 helper: %w", err)
	}
	select {
	case helperSlots <- struct{}{}:
		defer func() { <-helperSlots }()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	hctx, cancel := context.WithTimeout(ctx, lim.hdf5Timeout())
	defer cancel()
	cmd := exec.CommandContext(hctx, exe, path)
	cmd.Env = append(os.Environ(), helperEnv+"="+helperMode)
	stdout := &cappedBuffer{max: maxHelperStdout}
	stderr := &cappedBuffer{max: maxHelperStderr}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	err = cmd.Run()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var exit *exec.ExitError
	switch {
	case hctx.Err() != nil:
		return nil, &Error{Kind: ErrMalformed, Msg: msgHDF5Crashed,
			Cause: fmt.Errorf("fileformat: HDF5 helper on %s stopped after the timeout of %v; stderr: %q", path, lim.hdf5Timeout(), stderr.String())}
	case errors.As(err, &exit):
		return nil, &Error{Kind: ErrMalformed, Msg: msgHDF5Crashed,
			Cause: fmt.Errorf("fileformat: HDF5 helper on %s after %v: %v; stderr: %q", path, time.Since(start).Round(time.Millisecond), err, stderr.String())}
	case err != nil:
		return nil, fmt.Errorf("fileformat: running the HDF5 helper: %w", err)
	case stdout.over:
		return nil, &Error{Kind: ErrMalformed, Msg: "the HDF5 file lists too many datasets",
			Cause: fmt.Errorf("fileformat: HDF5 helper on %s wrote more than %d bytes", path, maxHelperStdout)}
	}
	var reply helperReply
	if err := json.Unmarshal(stdout.buf.Bytes(), &reply); err != nil {
		return nil, fmt.Errorf("fileformat: reply of the HDF5 helper on %s: %w; stderr: %q", path, err, stderr.String())
	}
	if reply.Error != "" {
		return nil, &Error{Kind: ErrMalformed, Msg: msgHDF5Unreadable,
			Cause: fmt.Errorf("fileformat: HDF5 helper: %s; stderr: %q", reply.Error, stderr.String())}
	}
	if reply.Datasets == nil {
		reply.Datasets = []Dataset{}
	}
	return reply.Datasets, nil
}

// cappedBuffer keeps the first max bytes written to it and drops the rest,
// noting that it did.
type cappedBuffer struct {
	buf  bytes.Buffer
	max  int
	over bool
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	room := c.max - c.buf.Len()
	if len(p) > room {
		c.buf.Write(p[:max(room, 0)])
		c.over = true
		return len(p), nil
	}
	return c.buf.Write(p)
}

func (c *cappedBuffer) String() string { return c.buf.String() }
