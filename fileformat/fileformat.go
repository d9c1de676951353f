// Package fileformat recognises and inspects the files users upload: HDF5
// files, MATLAB level-5 MAT-files and ENVI cubes (an uncompressed tar holding
// a .hdr header and its data file, see InspectENVI). It is the one place
// where an upload's format is sniffed (Sniff, SniffFile) and its arrays are
// listed (Inspect).
//
// Inspection treats every file as hostile. A MAT-file is scanned as a stream
// (matfile.Scan) with a bound on the total size to which its compressed
// variables expand, so that a small "zip bomb" costs neither memory nor
// time. An HDF5 file is opened by libhdf5, which may abort or hang on a
// damaged file; it is therefore inspected in a helper process, a copy of the
// running executable started with EDDY_HELPER=inspect-hdf5 (see
// the package's init), under a timeout, so that a corrupt file can neither
// crash nor stall the caller.
//
// Files refused for what they hold give an *Error, whose text is meant for the
// user who sent the file: it says what is wrong and never shows a path of the
// server or a library's internal message; its Cause, for the log, does.
package fileformat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"eddy/hyperspectral/matfile"
)

// Format is the format of a file; its value names the format in the API
// ("hdf5", "mat").
type Format string

// The recognised formats.
const (
	Unknown Format = ""
	HDF5    Format = "hdf5"
	// MAT is a MATLAB level-5 MAT-file (save -v6 or -v7); version 7.3 files
	// are HDF5 files.
	MAT Format = "mat"
	// ENVI is an ENVI cube sent as an uncompressed (POSIX or GNU) tar
	// archive of two files: the header name.hdr and the raw data.
	ENVI Format = "envi"
)

// File signatures.
var (
	hdf5Signature = []byte("\x89HDF\r\n\x1a\n")
	matSignature  = []byte("MATLAB 5.0 MAT-file")
	// tarMagic is the magic field of a POSIX ("ustar\x00") or GNU
	// ("ustar ") tar header block, at tarMagicOffset.
	tarMagic = []byte("ustar")
)

const tarMagicOffset = 257

// SniffLen is the number of leading bytes of a file that Sniff looks at: one
// tar header block.
const SniffLen = 512

// Sniff returns the format of a file that starts with head (at least
// SniffLen bytes, or the whole file if it is shorter): HDF5 for the HDF5
// signature \x89HDF\r\n\x1a\n at offset 0, MAT for the text
// "MATLAB 5.0 MAT-file" that starts a level-5 MAT-file, ENVI for a tar
// archive (magic "ustar" at offset 257; InspectENVI checks what it holds),
// PNG, JPEG, WAV or WLC by their signatures (media.go), else Unknown.
func Sniff(head []byte) Format {
	switch {
	case bytes.HasPrefix(head, hdf5Signature):
		return HDF5
	case bytes.HasPrefix(head, matSignature):
		return MAT
	case len(head) >= tarMagicOffset+len(tarMagic) && bytes.Equal(head[tarMagicOffset:tarMagicOffset+len(tarMagic)], tarMagic):
		return ENVI
	}
	return sniffMedia(head)
}

// SniffFile returns the format of the file at path (see Sniff).
func SniffFile(path string) (Format, error) {
	f, err := os.Open(path)
	if err != nil {
		return Unknown, fmt.Errorf("fileformat: %w", err)
	}
	defer f.Close()
	head := make([]byte, SniffLen)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return Unknown, fmt.Errorf("fileformat: %w", err)
	}
	return Sniff(head[:n]), nil
}

// Dataset describes one array of a file.
type Dataset struct {
	// Name is the HDF5 path of the dataset ("/cube/Y") or the name of the
	// MATLAB variable ("Y").
	Name string `json:"name"`
	// Shape is the extent of each axis: row-major for HDF5, MATLAB's
	// column-major dimensions for a MAT-file.
	Shape []int `json:"shape"`
	// Dtype is the element type: "float64", "float32", "int8" … "uint64"
	// (MATLAB's class name for integer classes); for HDF5 also "string",
	// "compound", "enum" or "other".
	Dtype string `json:"dtype"`
}

// Limits bound the work of inspecting and reading one file.
type Limits struct {
	// MaxInflated bounds the total number of bytes to which the compressed
	// variables of a MAT-file expand; 0 means DefaultMaxInflated.
	MaxInflated int64
	// HDF5Timeout bounds the inspection of an HDF5 file by the helper
	// process; 0 means DefaultHDF5Timeout.
	HDF5Timeout time.Duration
}

// Defaults of Limits.
const (
	DefaultMaxInflated = matfile.DefaultMaxInflated
	DefaultHDF5Timeout = 30 * time.Second
)

func (l Limits) maxInflated() int64 {
	if l.MaxInflated <= 0 {
		return DefaultMaxInflated
	}
	return l.MaxInflated
}

func (l Limits) hdf5Timeout() time.Duration {
	if l.HDF5Timeout <= 0 {
		return DefaultHDF5Timeout
	}
	return l.HDF5Timeout
}

// Kinds of *Error.
var (
	// ErrUnrecognised: the file is neither HDF5 nor a level-5 MAT-file.
	ErrUnrecognised = errors.New("fileformat: unrecognised file")
	// ErrMalformed: the file has a recognised format but cannot be read.
	ErrMalformed = errors.New("fileformat: malformed file")
	// ErrTooLarge: the file's compressed data expand beyond Limits.MaxInflated.
	ErrTooLarge = errors.New("fileformat: file expands beyond the limit")
)

// Error is a file refused for what it holds. Its text is meant for the user
// who sent the file; Cause holds the details for the log.
type Error struct {
	// Kind is ErrUnrecognised, ErrMalformed or ErrTooLarge.
	Kind error
	// Msg says what is wrong, without paths or library internals.
	Msg string
	// Cause is the underlying error, which may name paths; nil if none.
	Cause error
}

// Error returns Msg, the message for the user.
func (e *Error) Error() string { return e.Msg }

// Unwrap returns Kind, so that errors.Is(err, ErrTooLarge) tells a file
// refused for its size.
func (e *Error) Unwrap() error { return e.Kind }

// Messages of HDF5 files that cannot be read.
const (
	msgHDF5Unreadable = "not a readable HDF5 file: the file is truncated or damaged"
	msgHDF5Crashed    = "the HDF5 file could not be read: the reader stopped on a damaged structure"
)

// Inspect recognises the format of the file at path and lists its arrays:
// every dataset of an HDF5 file (inspected in a helper process, see the
// package comment), the numeric variables of a MAT-file, sorted by name,
// with MATLAB's dimensions and dtype "float64" (double), "float32" (single)
// or the class name of integer classes, or the cube of an ENVI tar
// (InspectENVI). A file that is refused for its
// contents gives an *Error; other errors (the file cannot be opened, the
// helper cannot be started, ctx is done) are failures of the caller's side.
func Inspect(ctx context.Context, path string, lim Limits) (Format, []Dataset, error) {
	format, err := SniffFile(path)
	if err != nil {
		return Unknown, nil, err
	}
	var ds []Dataset
	switch format {
	case HDF5:
		ds, err = inspectHDF5(ctx, path, lim)
	case MAT:
		var f *os.File
		if f, err = os.Open(path); err != nil {
			return format, nil, fmt.Errorf("fileformat: %w", err)
		}
		ds, err = inspectMAT(ctx, f, lim)
		f.Close()
	case ENVI:
		ds, err = InspectENVI(path)
	case PNG, JPEG, WAV, WLC:
		ds, err = inspectMedia(path, format)
	default:
		err = &Error{Kind: ErrUnrecognised, Msg: "unrecognised file: expected HDF5 (signature \\x89HDF), a MATLAB v5 MAT-file, an ENVI cube (a tar of name.hdr and its data file), a PNG or JPEG image, a WAV file or a WaLLoC bitstream (.wlc)"}
	}
	if err != nil {
		return format, nil, err
	}
	return format, ds, nil
}

// inspectMAT lists the numeric variables of the MAT-file read from r.
func inspectMAT(ctx context.Context, r io.Reader, lim Limits) ([]Dataset, error) {
	max := lim.maxInflated()
	hs, err := matfile.Scan(&ctxReader{ctx: ctx, r: r}, matfile.Options{MaxInflated: max})
	if err != nil {
		var fe *matfile.FormatError
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.Is(err, matfile.ErrTooLarge):
			return nil, &Error{Kind: ErrTooLarge, Cause: err,
				Msg: fmt.Sprintf("the MAT-file's compressed variables expand beyond the limit of %d bytes (%v)", max, err)}
		case errors.As(err, &fe):
			return nil, &Error{Kind: ErrMalformed, Msg: "not a readable MAT-file: " + err.Error(), Cause: err}
		}
		return nil, fmt.Errorf("fileformat: reading a MAT-file: %w", err)
	}
	var out []Dataset
	for _, h := range hs {
		if !h.Class.Numeric() {
			continue
		}
		dtype := h.Class.String()
		switch h.Class {
		case matfile.ClassDouble:
			dtype = "float64"
		case matfile.ClassSingle:
			dtype = "float32"
		}
		out = append(out, Dataset{Name: h.Name, Shape: h.Dims, Dtype: dtype})
	}
	if len(out) == 0 {
		return nil, &Error{Kind: ErrMalformed, Msg: "the MAT-file holds no numeric variables"}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ReadMAT reads every variable of the MAT-file at path, with the inflate
// bound of lim; see matfile.ReadWithOptions.
func ReadMAT(path string, lim Limits) (map[string]*matfile.Var, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("fileformat: %w", err)
	}
	defer f.Close()
	return matfile.ReadWithOptions(f, matfile.Options{MaxInflated: lim.maxInflated()})
}

// ctxReader stops reading once ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c *ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
