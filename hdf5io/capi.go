package hdf5io

// This file holds the few calls into libhdf5 that gonum.org/v1/hdf5 lacks or
// gets wrong for our purposes: silencing the per-thread error printer, reading
// with an explicit memory type (so that the library converts any integer or
// float type, of either byte order, to the requested one), scalar and
// fixed-length string attributes in UTF-8, listing objects and attributes,
// and describing dataspaces of any rank, including scalars.
//
// Every function here must be called with mu held.

/*
#cgo pkg-config: hdf5
#include <stdlib.h>
#include <string.h>
#include "hdf5.h"

// This build of libhdf5 is thread-safe, which makes its error stack, and the
// automatic printing attached to it, per OS thread: silencing it once at init
// leaves every other thread printing to stderr. So it is silenced before
// every call into the library.
static void eddy_silence(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

static herr_t eddy_walk_cb(unsigned n, const H5E_error2_t *e, void *data) {
	(void)n;
	if (e->desc != NULL && e->desc[0] != 0) {
		strncpy((char *)data, e->desc, 255);
		((char *)data)[255] = 0;
	}
	return 0;
}

// eddy_last_error copies into buf[256] the description of the innermost
// error on this thread's error stack, or "" if the stack is empty.
static void eddy_last_error(char *buf) {
	buf[0] = 0;
	H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, eddy_walk_cb, buf);
}

// eddy_names is a growable list of C strings filled by iteration callbacks.
typedef struct { char **v; size_t n, cap; } eddy_names;

static int eddy_names_add(eddy_names *l, const char *s) {
	if (l->n == l->cap) {
		size_t c = l->cap ? 2 * l->cap : 16;
		char **v = realloc(l->v, c * sizeof(char *));
		if (v == NULL) return -1;
		l->v = v;
		l->cap = c;
	}
	char *d = strdup(s);
	if (d == NULL) return -1;
	l->v[l->n++] = d;
	return 0;
}

static void eddy_names_free(eddy_names *l) {
	for (size_t i = 0; i < l->n; i++) free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

static char *eddy_names_at(eddy_names *l, size_t i) { return l->v[i]; }

static herr_t eddy_visit_cb(hid_t obj, const char *name, const H5O_info_t *info, void *data) {
	(void)obj;
	if (info->type != H5O_TYPE_DATASET) return 0;
	return eddy_names_add((eddy_names *)data, name) < 0 ? -1 : 0;
}

// eddy_list_datasets appends the path, relative to loc, of every dataset
// reachable from loc by hard links; each object is visited once, so cycles
// of hard links terminate, and soft and external links are not followed.
static herr_t eddy_list_datasets(hid_t loc, eddy_names *l) {
	return H5Ovisit2(loc, H5_INDEX_NAME, H5_ITER_INC, eddy_visit_cb, l, H5O_INFO_BASIC);
}

static herr_t eddy_attr_cb(hid_t loc, const char *name, const H5A_info_t *info, void *data) {
	(void)loc;
	(void)info;
	return eddy_names_add((eddy_names *)data, name) < 0 ? -1 : 0;
}

static herr_t eddy_list_attrs(hid_t obj, eddy_names *l) {
	hsize_t idx = 0;
	return H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, eddy_attr_cb, l);
}

// eddy_obj_type returns the H5O_type_t of the object at name, or -1.
static int eddy_obj_type(hid_t loc, const char *name) {
	H5O_info_t info;
	if (H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
	return (int)info.type;
}

// eddy_desc describes the element type and the dataspace of a dataset or
// an attribute.
typedef struct {
	int cls;     // H5T_class_t, or -2 for a non-standard number type
	size_t size; // bytes per element
	int sign;    // H5T_sign_t for integers
	int space;   // H5S_class_t
	int rank;
	hsize_t dims[H5S_MAX_RANK];
} eddy_desc;

// eddy_standard reports whether type is a standard integer or IEEE float
// type of 8 to 64 bits, in either byte order. Types read by ReadFloat64
// must be: conversion from a type with corrupt precision or offset fields
// can crash libhdf5.
static int eddy_standard(hid_t type) {
	hid_t std[] = {
		H5T_STD_I8LE, H5T_STD_I8BE, H5T_STD_U8LE, H5T_STD_U8BE,
		H5T_STD_I16LE, H5T_STD_I16BE, H5T_STD_U16LE, H5T_STD_U16BE,
		H5T_STD_I32LE, H5T_STD_I32BE, H5T_STD_U32LE, H5T_STD_U32BE,
		H5T_STD_I64LE, H5T_STD_I64BE, H5T_STD_U64LE, H5T_STD_U64BE,
		H5T_IEEE_F32LE, H5T_IEEE_F32BE, H5T_IEEE_F64LE, H5T_IEEE_F64BE,
	};
	for (size_t i = 0; i < sizeof std / sizeof std[0]; i++) {
		if (H5Tequal(type, std[i]) > 0) return 1;
	}
	return 0;
}

static herr_t eddy_describe(hid_t type, hid_t space, eddy_desc *d) {
	if (type < 0 || space < 0) return -1;
	d->cls = (int)H5Tget_class(type);
	if ((d->cls == H5T_INTEGER || d->cls == H5T_FLOAT) && !eddy_standard(type)) d->cls = -2;
	d->size = H5Tget_size(type);
	d->sign = d->cls == H5T_INTEGER ? (int)H5Tget_sign(type) : 0;
	d->space = (int)H5Sget_simple_extent_type(space);
	d->rank = H5Sget_simple_extent_ndims(space);
	if (d->cls == -1 || d->size == 0 || d->space < 0 || d->rank < 0) return -1;
	if (d->rank > 0 && H5Sget_simple_extent_dims(space, d->dims, NULL) < 0) return -1;
	return 0;
}

static herr_t eddy_describe_dataset(hid_t ds, eddy_desc *d) {
	hid_t t = H5Dget_type(ds), s = H5Dget_space(ds);
	herr_t r = eddy_describe(t, s, d);
	if (t >= 0) H5Tclose(t);
	if (s >= 0) H5Sclose(s);
	return r;
}

static herr_t eddy_describe_attr(hid_t a, eddy_desc *d) {
	hid_t t = H5Aget_type(a), s = H5Aget_space(a);
	herr_t r = eddy_describe(t, s, d);
	if (t >= 0) H5Tclose(t);
	if (s >= 0) H5Sclose(s);
	return r;
}

// eddy_data_outside reports whether a dataset keeps its data in other
// files (external storage or a virtual layout), or on error.
static int eddy_data_outside(hid_t ds) {
	hid_t p = H5Dget_create_plist(ds);
	if (p < 0) return 1;
	int out = H5Pget_layout(p) != H5D_CONTIGUOUS && H5Pget_layout(p) != H5D_CHUNKED && H5Pget_layout(p) != H5D_COMPACT;
	if (H5Pget_external_count(p) != 0) out = 1;
	H5Pclose(p);
	return out;
}

static herr_t eddy_read_dataset(hid_t ds, hid_t mem, void *buf) {
	return H5Dread(ds, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
}

// eddy_replace_attr deletes the attribute name of obj if it exists.
static herr_t eddy_replace_attr(hid_t obj, const char *name) {
	htri_t e = H5Aexists(obj, name);
	if (e < 0) return -1;
	return e > 0 ? H5Adelete(obj, name) : 0;
}

// eddy_write_str_attr writes value as a scalar variable-length UTF-8 string.
static herr_t eddy_write_str_attr(hid_t obj, const char *name, const char *value) {
	herr_t r = -1;
	hid_t t = H5Tcopy(H5T_C_S1), s = -1, a = -1;
	if (t < 0 || H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) goto done;
	if ((s = H5Screate(H5S_SCALAR)) < 0) goto done;
	if ((a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto done;
	r = H5Awrite(a, t, &value);
done:
	if (a >= 0 && H5Aclose(a) < 0) r = -1;
	if (s >= 0) H5Sclose(s);
	if (t >= 0) H5Tclose(t);
	return r;
}

// eddy_write_num_attr writes n elements of buf, of memory type mem, as an
// attribute of file type file: a scalar when rank is 0, else one dimension.
static herr_t eddy_write_num_attr(hid_t obj, const char *name, hid_t file, hid_t mem, int rank, hsize_t n, const void *buf) {
	herr_t r = -1;
	hid_t s = rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL), a = -1;
	if (s < 0) goto done;
	if ((a = H5Acreate2(obj, name, file, s, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto done;
	r = n == 0 ? 0 : H5Awrite(a, mem, buf);
done:
	if (a >= 0 && H5Aclose(a) < 0) r = -1;
	if (s >= 0) H5Sclose(s);
	return r;
}

// eddy_read_str_attr reads a one-element string attribute, variable or fixed
// length, into a malloc'ed buffer *out holding *len bytes (plus a NUL).
// Fixed-length strings lose their padding. It returns -2 if the attribute is
// not a string, -3 if it does not hold exactly one element.
static herr_t eddy_read_str_attr(hid_t a, char **out, size_t *len) {
	herr_t r = -1;
	hid_t ft = H5Aget_type(a), mt = -1, s = H5Aget_space(a);
	*out = NULL;
	*len = 0;
	if (ft < 0 || s < 0) goto done;
	if (H5Tget_class(ft) != H5T_STRING) { r = -2; goto done; }
	if (H5Sget_simple_extent_npoints(s) != 1) { r = -3; goto done; }
	htri_t vl = H5Tis_variable_str(ft);
	if (vl < 0) goto done;
	if (vl > 0) {
		char *v = NULL;
		mt = H5Tcopy(H5T_C_S1);
		if (mt < 0 || H5Tset_size(mt, H5T_VARIABLE) < 0 || H5Tset_cset(mt, H5Tget_cset(ft)) < 0) goto done;
		if ((r = H5Aread(a, mt, &v)) < 0) goto done;
		size_t n = v == NULL ? 0 : strlen(v);
		*out = malloc(n + 1);
		if (*out != NULL) {
			if (n > 0) memcpy(*out, v, n);
			(*out)[n] = 0;
			*len = n;
		} else {
			r = -1;
		}
		if (v != NULL) H5free_memory(v);
	} else {
		size_t n = H5Tget_size(ft);
		char *b = calloc(n + 1, 1);
		if (b == NULL) goto done;
		if ((r = H5Aread(a, ft, b)) < 0) { free(b); goto done; }
		if (H5Tget_strpad(ft) == H5T_STR_SPACEPAD) {
			while (n > 0 && b[n - 1] == ' ') n--;
		} else {
			n = strnlen(b, n);
		}
		*out = b;
		*len = n;
	}
done:
	if (mt >= 0) H5Tclose(mt);
	if (ft >= 0) H5Tclose(ft);
	if (s >= 0) H5Sclose(s);
	return r;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"sort"
	"sync"
	"unsafe"
)

// mu serialises every call into libhdf5.
var mu sync.Mutex

// lock acquires mu, wires the calling goroutine to its OS thread, whose
// error stack libhdf5 uses, and silences the error printer of that thread.
// Callers defer unlock().
func lock() {
	runtime.LockOSThread()
	mu.Lock()
	C.eddy_silence()
}

func unlock() {
	mu.Unlock()
	runtime.UnlockOSThread()
}

func init() {
	// libhdf5 takes an flock on every file it opens, on a descriptor opened
	// without close-on-exec: a process started meanwhile (the upload
	// inspector, a test's worker) inherits the lock and holds it while it
	// lives, and the next open of that file here fails with "unable to lock
	// file". Eddy never shares a file between writers — results are written
	// under a private name and published by rename — so the lock protects
	// nothing here; the library reads this variable at every open.
	if _, set := os.LookupEnv("HDF5_USE_FILE_LOCKING"); !set {
		os.Setenv("HDF5_USE_FILE_LOCKING", "FALSE")
	}
	lock()
	unlock()
}

// libError returns the error of the library call that just failed on this
// thread, with the library's own description when it left one; callers wrap
// it with what was being done. mu must be held since the failed call.
func libError() error {
	var buf [256]C.char
	C.eddy_last_error(&buf[0])
	if msg := C.GoString(&buf[0]); msg != "" {
		return errors.New("libhdf5: " + msg)
	}
	return errors.New("libhdf5 call failed")
}

func check(r C.herr_t) error {
	if r < 0 {
		return libError()
	}
	return nil
}

// hid is an identifier of an open HDF5 object.
type hid = C.hid_t

// desc describes the elements and the dataspace of a dataset or attribute.
type desc struct {
	class  C.H5T_class_t
	size   int
	signed bool
	space  C.H5S_class_t
	shape  []int // nil for a null dataspace, empty for a scalar
}

func fromC(d *C.eddy_desc) (desc, error) {
	o := desc{
		class:  C.H5T_class_t(d.cls),
		size:   int(d.size),
		signed: C.H5T_sign_t(d.sign) == C.H5T_SGN_2,
		space:  C.H5S_class_t(d.space),
	}
	switch o.space {
	case C.H5S_SCALAR:
		o.shape = []int{}
	case C.H5S_SIMPLE:
		o.shape = make([]int, int(d.rank))
		for i := range o.shape {
			if d.dims[i] > C.hsize_t(maxInt) {
				return desc{}, fmt.Errorf("dimension %d too large", uint64(d.dims[i]))
			}
			o.shape[i] = int(d.dims[i])
		}
	}
	return o, nil
}

func describeDataset(ds hid) (desc, error) {
	var d C.eddy_desc
	if err := check(C.eddy_describe_dataset(ds, &d)); err != nil {
		return desc{}, err
	}
	return fromC(&d)
}

func describeAttr(a hid) (desc, error) {
	var d C.eddy_desc
	if err := check(C.eddy_describe_attr(a, &d)); err != nil {
		return desc{}, err
	}
	return fromC(&d)
}

// numeric reports whether the elements are integers or floats.
func (d desc) numeric() bool { return d.class == C.H5T_INTEGER || d.class == C.H5T_FLOAT }

// dtype names the element type as in DatasetInfo.Dtype.
func (d desc) dtype() string {
	switch d.class {
	case C.H5T_INTEGER: // standard types only, see eddy_standard
		if d.signed {
			return fmt.Sprintf("int%d", 8*d.size)
		}
		return fmt.Sprintf("uint%d", 8*d.size)
	case C.H5T_FLOAT:
		return fmt.Sprintf("float%d", 8*d.size)
	case C.H5T_STRING:
		return "string"
	case C.H5T_COMPOUND:
		return "compound"
	case C.H5T_ENUM:
		return "enum"
	}
	return "other"
}

const maxInt = int(^uint(0) >> 1)

// count returns the number of elements, or an error if the dataspace is null
// or its size does not fit in memory addressable with elements of size bytes.
func (d desc) count(size int) (int, error) {
	if d.shape == nil {
		return 0, errors.New("null dataspace (no elements)")
	}
	n := 1
	for _, s := range d.shape {
		if s > 0 && n > maxInt/size/s {
			return 0, fmt.Errorf("shape %v too large", d.shape)
		}
		n *= s
	}
	return n, nil
}

func cstring(s string) *C.char { return C.CString(s) }

func free(p *C.char) { C.free(unsafe.Pointer(p)) }

// names converts and frees a list filled by C.
func names(l *C.eddy_names) []string {
	s := make([]string, int(l.n))
	for i := range s {
		s[i] = C.GoString(C.eddy_names_at(l, C.size_t(i)))
	}
	C.eddy_names_free(l)
	sort.Strings(s)
	return s
}

func listDatasets(loc hid) ([]string, error) {
	var l C.eddy_names
	err := check(C.eddy_list_datasets(loc, &l))
	return names(&l), err
}

func listAttrs(obj hid) ([]string, error) {
	var l C.eddy_names
	err := check(C.eddy_list_attrs(obj, &l))
	return names(&l), err
}

// objType returns the type of the object at the canonical path p, with
// ok false if nothing is there.
func objType(file hid, p string) (t C.H5O_type_t, ok bool) {
	cp := cstring(p)
	defer free(cp)
	r := C.eddy_obj_type(file, cp)
	return C.H5O_type_t(r), r >= 0
}

func openObject(file hid, p string) (hid, error) {
	cp := cstring(p)
	defer free(cp)
	id := C.H5Oopen(file, cp, C.H5P_DEFAULT)
	if id < 0 {
		return -1, libError()
	}
	return id, nil
}

func closeObject(id hid) error { return check(C.H5Oclose(id)) }

func openAttr(obj hid, name string) (a hid, ok bool, err error) {
	cn := cstring(name)
	defer free(cn)
	switch e := C.H5Aexists(obj, cn); {
	case e < 0:
		return -1, false, libError()
	case e == 0:
		return -1, false, nil
	}
	a = C.H5Aopen(obj, cn, C.H5P_DEFAULT)
	if a < 0 {
		return -1, false, libError()
	}
	return a, true, nil
}

func closeAttr(a hid) error { return check(C.H5Aclose(a)) }

func writeStringAttr(obj hid, name, value string) error {
	cn, cv := cstring(name), cstring(value)
	defer free(cn)
	defer free(cv)
	if err := check(C.eddy_replace_attr(obj, cn)); err != nil {
		return err
	}
	return check(C.eddy_write_str_attr(obj, cn, cv))
}

// writeNumAttr writes n elements at buf, of memory type mem, as a scalar
// (rank 0) or one-dimensional attribute of file type file.
func writeNumAttr(obj hid, name string, file, mem hid, rank, n int, buf unsafe.Pointer) error {
	cn := cstring(name)
	defer free(cn)
	if err := check(C.eddy_replace_attr(obj, cn)); err != nil {
		return err
	}
	return check(C.eddy_write_num_attr(obj, cn, file, mem, C.int(rank), C.hsize_t(n), buf))
}

// readStringAttr reads a one-element string attribute.
func readStringAttr(a hid) (string, error) {
	var p *C.char
	var n C.size_t
	switch r := C.eddy_read_str_attr(a, &p, &n); r {
	case -2:
		return "", errors.New("not a string")
	case -3:
		return "", errors.New("not a single string")
	default:
		if r < 0 {
			return "", libError()
		}
	}
	defer C.free(unsafe.Pointer(p))
	return C.GoStringN(p, C.int(n)), nil
}

func readAttr(a, mem hid, buf unsafe.Pointer) error { return check(C.H5Aread(a, mem, buf)) }

// storageSize returns the number of bytes of the file allocated to the data
// of a dataset.
func storageSize(ds hid) uint64 { return uint64(C.H5Dget_storage_size(ds)) }

// dataOutside reports whether the data of a dataset is in other files.
func dataOutside(ds hid) bool { return C.eddy_data_outside(ds) != 0 }

func readDataset(ds, mem hid, buf unsafe.Pointer) error {
	return check(C.eddy_read_dataset(ds, mem, buf))
}

// Object types returned by objType.
const (
	objGroup   = C.H5O_TYPE_GROUP
	objDataset = C.H5O_TYPE_DATASET
)

const classInteger = C.H5T_INTEGER
