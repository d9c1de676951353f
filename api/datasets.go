package api

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"eddy/hdf5io"
	"eddy/jobs"
	"eddy/storage"
)

// Bounds of one dataset answer. A slab is read whole into memory before it
// is written, so the .npy answer is bounded too; a client that needs more
// reads it in slices (or downloads the HDF5 file).
const (
	// maxSlabBytes bounds the elements of one .npy answer, in bytes.
	maxSlabBytes = 512 << 20
	// maxJSONElements bounds the elements of one JSON answer.
	maxJSONElements = 1 << 18
)

// resultFile opens the HDF5 result of a succeeded job, or writes the problem
// (404 for an unknown job, 409 before success, 410 for a lost file) and
// returns ok false. The caller closes the file.
func (s *server) resultFile(w http.ResponseWriter, r *http.Request) (*storage.Run, *hdf5io.File, bool) {
	run, err := s.cfg.Jobs.Get(r.Context(), chi.URLParam(r, "id"))
	if err != nil {
		s.writeErr(w, r, err)
		return nil, nil, false
	}
	if run.State != storage.Succeeded || run.Result == nil {
		writeProblem(w, http.StatusConflict, fmt.Sprintf("job is %s; its datasets exist once it has succeeded", run.State))
		return nil, nil, false
	}
	f, ok := s.openResult(w, r, run)
	return run, f, ok
}

// openResult opens a succeeded run's result file; when it is unreadable it
// writes a 410 problem and returns ok false.
func (s *server) openResult(w http.ResponseWriter, r *http.Request, run *storage.Run) (*hdf5io.File, bool) {
	// HDF5 reads a local file: a remote store's result is fetched into the
	// cache. The copy may be released once open, since HDF5 holds the open
	// file, which eviction (an unlink) does not take away.
	local, err := storage.Fetch(r.Context(), s.cfg.Artifacts, run.ResultPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		s.storeUnavailable(w, run, err)
		return nil, false
	}
	var f *hdf5io.File
	if err == nil {
		f, err = hdf5io.Open(local.Path)
		local.Close()
	}
	if err != nil {
		s.log.Error("result file unreadable", "run", run.ID, "err", err)
		writeProblem(w, http.StatusGone, "the result file of this job is no longer available")
		return nil, false
	}
	return f, true
}

// storeUnavailable answers 503 with Retry-After for a result the artifact
// store could not be asked about (an object store that does not answer):
// unlike a lost file (410), it may be there in a moment.
func (s *server) storeUnavailable(w http.ResponseWriter, run *storage.Run, err error) {
	s.log.Warn("artifact store not reachable", "run", run.ID, "err", err)
	w.Header().Set("Retry-After", "5")
	writeProblem(w, http.StatusServiceUnavailable, "the result store is not reachable; try again in a few seconds")
}

// wildcardName returns the object name matched by a route's trailing "*":
// names may hold slashes, sent as they are or escaped as %2F.
func wildcardName(r *http.Request) (string, error) {
	name := chi.URLParam(r, "*")
	if r.URL.RawPath != "" { // chi matched the escaped path
		var err error
		if name, err = url.PathUnescape(name); err != nil {
			return "", err
		}
	}
	return strings.Trim(name, "/"), nil
}

// datasetMeta is a dataset as GET /v1/jobs/{id}/datasets lists it.
type datasetMeta struct {
	Name  string `json:"name"`
	Shape []int  `json:"shape"`
	Dtype string `json:"dtype"`
	Dims  string `json:"dims"`
	Units string `json:"units"`
	URL   string `json:"url"`
}

// describeDatasets lists every dataset of a result file with its dims and
// units attributes ("" where absent).
func describeDatasets(f *hdf5io.File, jobID string) ([]datasetMeta, error) {
	infos, err := f.Datasets()
	if err != nil {
		return nil, err
	}
	out := make([]datasetMeta, 0, len(infos))
	for _, d := range infos {
		name := strings.TrimPrefix(d.Name, "/")
		dims, _ := f.AttrString(d.Name, "dims")
		units, _ := f.AttrString(d.Name, "units")
		out = append(out, datasetMeta{Name: name, Shape: d.Shape, Dtype: d.Dtype, Dims: dims, Units: units,
			URL: "/v1/jobs/" + jobID + "/datasets/" + name})
	}
	return out, nil
}

// listDatasets serves GET /v1/jobs/{id}/datasets: {"datasets": [{"name",
// "shape", "dtype", "dims", "units", "url"}, …]} of a succeeded job.
func (s *server) listDatasets(w http.ResponseWriter, r *http.Request) {
	run, f, ok := s.resultFile(w, r)
	if !ok {
		return
	}
	defer f.Close()
	list, err := describeDatasets(f, run.ID)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"datasets": list})
}

// sliceError is a selection that cannot be read: a malformed one (400) or
// one outside the dataset (422).
type sliceError struct {
	status int
	msg    string
}

// parseSlice parses a numpy-style selection such as "0,10:20,:,::2" for a
// dataset of the given shape: one comma-separated entry per leading axis
// (missing trailing entries select whole axes), each an index i (which
// drops the axis) or start:stop[:step] with step ≥ 1. Negative indices and
// bounds count from the end, as in numpy; unlike numpy, a bound beyond the
// axis is refused rather than clipped. keep reports the axes that stay.
func parseSlice(spec string, shape []int) (sel []hdf5io.Range, keep []bool, serr *sliceError) {
	sel, keep = hdf5io.All(shape), make([]bool, len(shape))
	for i := range keep {
		keep[i] = true
	}
	if strings.TrimSpace(spec) == "" {
		return sel, keep, nil
	}
	parts := strings.Split(spec, ",")
	if len(parts) > len(shape) {
		return nil, nil, &sliceError{http.StatusUnprocessableEntity,
			fmt.Sprintf("slice %q has %d entries; the dataset has %d axes (shape %v)", spec, len(parts), len(shape), shape)}
	}
	for ax, p := range parts {
		n := shape[ax]
		p = strings.TrimSpace(p)
		resolve := func(text string, def int, isIndex bool) (int, *sliceError) {
			if text == "" {
				return def, nil
			}
			v, err := strconv.Atoi(text)
			if err != nil {
				return 0, &sliceError{http.StatusBadRequest, fmt.Sprintf("slice entry %d %q: %q is not an integer", ax, p, text)}
			}
			if v < 0 {
				v += n
			}
			hi := n
			if isIndex {
				hi = n - 1
			}
			if v < 0 || v > hi {
				return 0, &sliceError{http.StatusUnprocessableEntity,
					fmt.Sprintf("slice entry %d %q: %s is outside axis %d of extent %d", ax, p, text, ax, n)}
			}
			return v, nil
		}
		fields := strings.Split(p, ":")
		switch len(fields) {
		case 1:
			if p == "" {
				return nil, nil, &sliceError{http.StatusBadRequest, fmt.Sprintf("slice entry %d is empty; use : for a whole axis", ax)}
			}
			i, e := resolve(p, 0, true)
			if e != nil {
				return nil, nil, e
			}
			sel[ax], keep[ax] = hdf5io.Range{Start: i, Stop: i + 1, Step: 1}, false
		case 2, 3:
			start, e := resolve(fields[0], 0, false)
			if e != nil {
				return nil, nil, e
			}
			stop, e := resolve(fields[1], n, false)
			if e != nil {
				return nil, nil, e
			}
			step := 1
			if len(fields) == 3 && fields[2] != "" {
				v, err := strconv.Atoi(fields[2])
				if err != nil || v < 1 {
					return nil, nil, &sliceError{http.StatusBadRequest, fmt.Sprintf("slice entry %d %q: the step must be a positive integer", ax, p)}
				}
				step = v
			}
			sel[ax] = hdf5io.Range{Start: start, Stop: max(start, stop), Step: step}
		default:
			return nil, nil, &sliceError{http.StatusBadRequest, fmt.Sprintf("slice entry %d %q: want i, start:stop or start:stop:step", ax, p)}
		}
	}
	return sel, keep, nil
}

// npyDescr is the numpy type of each dtype served as it is stored; every
// other numeric dtype is served as float64.
var npyDescr = map[string]string{"float64": "<f8", "float32": "<f4", "int64": "<i8", "uint8": "|u1", "int8": "|i1"}

// slab is a hyperslab read in the dtype it is served in: exactly one of the
// slices is set.
type slab struct {
	dtype string // key of npyDescr
	f64   []float64
	f32   []float32
	i64   []int64
	u8    []uint8
	i8    []int8
}

func (s *slab) len() int { return len(s.f64) + len(s.f32) + len(s.i64) + len(s.u8) + len(s.i8) }

// readSlab reads sel of the dataset in its own dtype when numpy has it, as
// float64 otherwise.
func readSlab(f *hdf5io.File, name, dtype string, sel []hdf5io.Range) (*slab, error) {
	s := &slab{dtype: dtype}
	var err error
	switch dtype {
	case "float32":
		s.f32, _, err = f.ReadFloat32Slab(name, sel)
	case "int64":
		s.i64, _, err = f.ReadInt64Slab(name, sel)
	case "uint8":
		s.u8, _, err = f.ReadUint8Slab(name, sel)
	case "int8":
		s.i8, _, err = f.ReadInt8Slab(name, sel)
	default:
		s.dtype = "float64"
		s.f64, _, err = f.ReadFloat64Slab(name, sel)
	}
	return s, err
}

// elementSize is the size in bytes of an element served as dtype.
func elementSize(dtype string) int {
	switch dtype {
	case "float32":
		return 4
	case "uint8", "int8":
		return 1
	}
	return 8
}

// dataset serves GET /v1/jobs/{id}/datasets/{name}: one dataset of a
// succeeded job, or the hyperslab ?slice= of it (see parseSlice), as a .npy
// file (format version 1.0, little-endian; float64, float32, int64, uint8 and
// int8 as stored, other numeric types as float64) or, with ?format=json and
// at most maxJSONElements elements, as {"name", "dtype", "shape", "dims",
// "units", "data"} with data flat in row-major order (NaN and ±Inf as null).
// The headers X-Eddy-Dims and X-Eddy-Units carry the dataset's attributes,
// X-Eddy-Dims naming only the axes that the slice keeps. Only the selected
// elements are read from the file.
func (s *server) dataset(w http.ResponseWriter, r *http.Request) {
	name, err := wildcardName(r)
	if err != nil || name == "" {
		writeProblem(w, http.StatusBadRequest, "a dataset name is required: /v1/jobs/{id}/datasets/{name}")
		return
	}
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "npy" && format != "json" {
		writeProblem(w, http.StatusBadRequest, "format must be npy or json",
			jobs.FieldError{Path: "/query/format", Message: "must be npy or json"})
		return
	}
	_, f, ok := s.resultFile(w, r)
	if !ok {
		return
	}
	defer f.Close()
	info, err := f.Describe(name)
	if errors.Is(err, hdf5io.ErrNotFound) || (err == nil && strings.HasPrefix(info.Name, "/metrics/")) {
		writeProblem(w, http.StatusNotFound, fmt.Sprintf("the result has no dataset %q; GET /v1/jobs/%s/datasets lists them", name, chi.URLParam(r, "id")))
		return
	}
	if err != nil {
		writeProblem(w, http.StatusNotFound, fmt.Sprintf("%q is not a dataset of the result", name))
		return
	}
	switch info.Dtype {
	case "string", "compound", "enum", "other":
		writeProblem(w, http.StatusUnprocessableEntity, fmt.Sprintf("dataset %q holds %s elements; only numeric datasets are served", name, info.Dtype))
		return
	}
	if info.Shape == nil {
		writeProblem(w, http.StatusUnprocessableEntity, fmt.Sprintf("dataset %q has no elements (null dataspace)", name))
		return
	}
	sel, keep, serr := parseSlice(q.Get("slice"), info.Shape)
	if serr != nil {
		writeProblem(w, serr.status, serr.msg, jobs.FieldError{Path: "/query/slice", Message: serr.msg})
		return
	}
	var shape []int
	count := 1
	for i, rg := range sel {
		count *= rg.Len()
		if keep[i] {
			shape = append(shape, rg.Len())
		}
	}
	dtype := info.Dtype
	if _, ok := npyDescr[dtype]; !ok {
		dtype = "float64"
	}
	if format == "json" && count > maxJSONElements {
		writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf(
			"the selection holds %d elements; JSON is served up to %d: ask for .npy (no format) or a smaller ?slice=", count, maxJSONElements))
		return
	}
	if int64(count)*int64(elementSize(dtype)) > maxSlabBytes {
		writeProblem(w, http.StatusRequestEntityTooLarge, fmt.Sprintf(
			"the selection holds %d elements (%d bytes); one answer holds at most %d bytes: ask for a smaller ?slice=, or download the HDF5 file",
			count, int64(count)*int64(elementSize(dtype)), maxSlabBytes))
		return
	}
	data, err := readSlab(f, info.Name, info.Dtype, sel)
	if err != nil {
		s.internalError(w, r, err)
		return
	}
	dims, _ := f.AttrString(info.Name, "dims")
	units, _ := f.AttrString(info.Name, "units")
	if axes := strings.Split(dims, ","); dims != "" && len(axes) == len(keep) {
		var kept []string
		for i, a := range axes {
			if keep[i] {
				kept = append(kept, a)
			}
		}
		dims = strings.Join(kept, ",")
	}
	// Header values must be printable ASCII: attributes come from files.
	w.Header().Set("X-Eddy-Dims", headerSafe(dims))
	w.Header().Set("X-Eddy-Units", headerSafe(units))
	w.Header().Set("X-Eddy-Shape", shapeText(shape))
	w.Header().Set("X-Eddy-Dtype", data.dtype)
	w.Header().Set("Cache-Control", "private, max-age=3600")
	if format == "json" {
		writeJSON(w, http.StatusOK, map[string]any{"name": strings.TrimPrefix(info.Name, "/"), "dtype": data.dtype,
			"shape": nonNilInts(shape), "dims": dims, "units": units, "data": jsonValues(data)})
		return
	}
	w.Header().Set("Content-Type", "application/x-npy")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", strings.ReplaceAll(strings.TrimPrefix(info.Name, "/"), "/", "_")+".npy"))
	bw := bufio.NewWriterSize(w, 1<<16)
	writeNpy(bw, data, shape)
	bw.Flush()
}

func nonNilInts(s []int) []int {
	if s == nil {
		return []int{}
	}
	return s
}

func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

// shapeText writes a shape as "3,4,5" ("" for a scalar).
func shapeText(shape []int) string {
	parts := make([]string, len(shape))
	for i, n := range shape {
		parts[i] = strconv.Itoa(n)
	}
	return strings.Join(parts, ",")
}

// jsonValues returns the elements of a slab as JSON values, floats that are
// not finite as nil (null).
func jsonValues(s *slab) any {
	switch {
	case s.f64 != nil:
		return finiteOrNil(s.f64)
	case s.f32 != nil:
		v := make([]float64, len(s.f32))
		for i, x := range s.f32 {
			v[i] = float64(x)
		}
		return finiteOrNil(v)
	case s.i64 != nil:
		return s.i64
	case s.u8 != nil:
		v := make([]int, len(s.u8)) // []uint8 would encode as base64
		for i, x := range s.u8 {
			v[i] = int(x)
		}
		return v
	case s.i8 != nil:
		return s.i8
	}
	return []int{}
}

func finiteOrNil(v []float64) []any {
	out := make([]any, len(v))
	for i, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			out[i] = x
		}
	}
	return out
}

// npyHeader returns the header of a .npy file (format version 1.0) for a C-order
// array of numpy type descr and the given shape: the magic string, the
// version, the header length and the dictionary, padded with spaces and a
// newline to a multiple of 64 bytes.
func npyHeader(descr string, shape []int) []byte {
	dims := make([]string, len(shape))
	for i, n := range shape {
		dims[i] = strconv.Itoa(n)
	}
	tuple := "(" + strings.Join(dims, ", ")
	if len(shape) == 1 {
		tuple += ","
	}
	tuple += ")"
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': %s, }", descr, tuple)
	total := 10 + len(dict) + 1
	pad := (64 - total%64) % 64
	dict += strings.Repeat(" ", pad) + "\n"
	h := make([]byte, 0, 10+len(dict))
	h = append(h, "\x93NUMPY\x01\x00"...)
	h = binary.LittleEndian.AppendUint16(h, uint16(len(dict)))
	return append(h, dict...)
}

// writeNpy writes a slab as a .npy file of the given shape.
func writeNpy(w *bufio.Writer, s *slab, shape []int) error {
	if _, err := w.Write(npyHeader(npyDescr[s.dtype], shape)); err != nil {
		return err
	}
	var buf [8]byte
	var err error
	put := func(b []byte) {
		if err == nil {
			_, err = w.Write(b)
		}
	}
	switch {
	case s.f64 != nil:
		for _, x := range s.f64 {
			binary.LittleEndian.PutUint64(buf[:], math.Float64bits(x))
			put(buf[:8])
		}
	case s.f32 != nil:
		for _, x := range s.f32 {
			binary.LittleEndian.PutUint32(buf[:], math.Float32bits(x))
			put(buf[:4])
		}
	case s.i64 != nil:
		for _, x := range s.i64 {
			binary.LittleEndian.PutUint64(buf[:], uint64(x))
			put(buf[:8])
		}
	case s.u8 != nil:
		put(s.u8)
	case s.i8 != nil:
		for _, x := range s.i8 {
			buf[0] = byte(x)
			put(buf[:1])
		}
	}
	return err
}
