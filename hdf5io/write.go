package hdf5io

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unsafe"

	"gonum.org/v1/hdf5"
)

// Writer writes a new HDF5 file. The file is built under a temporary name
// in the destination directory and appears at its destination only when
// Close succeeds. A Writer may be used from several goroutines.
type Writer struct {
	path string     // destination
	tmp  string     // file being written
	f    *hdf5.File // nil once closed or aborted
}

// Create starts writing an HDF5 file that Close will place at path,
// replacing any file there. The temporary file is named after path with a
// leading dot and a random suffix. Call Close to finish or Abort to discard;
// `defer w.Abort()` is safe after a successful Close.
func Create(path string) (*Writer, error) {
	dir, base := filepath.Split(path)
	if base == "" {
		return nil, fmt.Errorf("hdf5io: create %q: not a file name", path)
	}
	if dir == "" {
		dir = "."
	}
	tf, err := os.CreateTemp(dir, "."+base+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("hdf5io: create %q: %w", path, err)
	}
	tmp := tf.Name()
	if err := tf.Close(); err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("hdf5io: create %q: %w", path, err)
	}
	lock()
	defer unlock()
	f, err := hdf5.CreateFile(tmp, hdf5.F_ACC_TRUNC)
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("hdf5io: create %q: %w", path, libError())
	}
	return &Writer{path: path, tmp: tmp, f: f}, nil
}

// Close finishes the file: it closes it, syncs it to stable storage, gives
// it mode 0644 and renames it onto the destination path. On error nothing
// is left at the temporary name and the destination is unchanged.
func (w *Writer) Close() error {
	lock()
	f := w.f
	w.f = nil
	var err error
	if f != nil && f.Close() != nil {
		err = libError()
	}
	unlock()
	if f == nil {
		return fmt.Errorf("hdf5io: close %q: %w", w.path, os.ErrClosed)
	}
	if err == nil {
		err = finish(w.tmp, w.path)
	}
	if err != nil {
		ns := noSpace(w.tmp, 0)
		os.Remove(w.tmp)
		if ns != nil {
			return ns
		}
		return fmt.Errorf("hdf5io: close %q: %w", w.path, err)
	}
	return nil
}

// finish makes the closed file tmp durable and renames it onto path.
func finish(tmp, path string) error {
	fh, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	err = fh.Sync()
	if cerr := fh.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return err
	}
	// Make the rename itself durable; not every file system supports it.
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Abort discards the file being written. It does nothing after Close or
// Abort.
func (w *Writer) Abort() {
	lock()
	f := w.f
	w.f = nil
	if f != nil {
		f.Close()
	}
	unlock()
	if f != nil {
		os.Remove(w.tmp)
	}
}

func (w *Writer) errorf(op, obj string, err error) error {
	return fmt.Errorf("hdf5io: %s %q in %q: %w", op, obj, w.path, err)
}

// file returns the open file or an error; mu must be held.
func (w *Writer) file() (hid, error) {
	if w.f == nil {
		return -1, os.ErrClosed
	}
	return hid(w.f.ID()), nil
}

// CreateGroup creates the group at path and any missing groups above it.
// It is not an error if the group exists; it is if another object is there.
func (w *Writer) CreateGroup(path string) error {
	p, err := cleanPath(path)
	if err != nil {
		return w.errorf("create group", path, err)
	}
	lock()
	defer unlock()
	if err := w.mkdirAll(p); err != nil {
		return w.errorf("create group", p, err)
	}
	return nil
}

// mkdirAll creates the group at the canonical path p and its missing
// ancestors; mu must be held.
func (w *Writer) mkdirAll(p string) error {
	fid, err := w.file()
	if err != nil || p == "/" {
		return err
	}
	for _, q := range append(parents(p), p) {
		if t, ok := objType(fid, q); ok {
			if t != objGroup {
				return fmt.Errorf("%q exists and is not a group", q)
			}
			continue
		}
		g, err := w.f.CreateGroup(q)
		if err != nil {
			return fmt.Errorf("creating %q: %w", q, libError())
		}
		if err := g.Close(); err != nil {
			return fmt.Errorf("closing %q: %w", q, libError())
		}
	}
	return nil
}

// element is a type of dataset element that Writer writes.
type element interface {
	float64 | float32 | uint8 | int8 | int64
}

// WriteFloat64 writes data as a new float64 dataset of the given shape,
// stored row-major, with string attributes dims and units when those are
// not empty. name is a path such as "solution" or "/metrics/energy"; missing
// groups above it are created, and an existing object of that name is an
// error. A dimension may be zero; an empty shape writes a scalar.
//
// WriteFloat64 panics if len(data) is not the product of shape, if a
// dimension is negative, or if dims is not empty and does not name
// len(shape) comma-separated axes.
func (w *Writer) WriteFloat64(name string, data []float64, shape []int, dims, units string) error {
	return write(w, "WriteFloat64", hdf5.T_NATIVE_DOUBLE, name, data, shape, dims, units)
}

// WriteFloat32 writes a float32 dataset, as WriteFloat64 does.
func (w *Writer) WriteFloat32(name string, data []float32, shape []int, dims, units string) error {
	return write(w, "WriteFloat32", hdf5.T_NATIVE_FLOAT, name, data, shape, dims, units)
}

// WriteUint8 writes a uint8 dataset, as WriteFloat64 does.
func (w *Writer) WriteUint8(name string, data []uint8, shape []int, dims, units string) error {
	return write(w, "WriteUint8", hdf5.T_NATIVE_UINT8, name, data, shape, dims, units)
}

// WriteInt8 writes an int8 dataset, as WriteFloat64 does.
func (w *Writer) WriteInt8(name string, data []int8, shape []int, dims, units string) error {
	return write(w, "WriteInt8", hdf5.T_NATIVE_INT8, name, data, shape, dims, units)
}

// WriteInt64 writes an int64 dataset, as WriteFloat64 does.
func (w *Writer) WriteInt64(name string, data []int64, shape []int, dims, units string) error {
	return write(w, "WriteInt64", hdf5.T_NATIVE_INT64, name, data, shape, dims, units)
}

func write[T element](w *Writer, fn string, typ *hdf5.Datatype, name string, data []T, shape []int, dims, units string) error {
	n := 1
	for _, s := range shape {
		if s < 0 {
			panic(fmt.Sprintf("hdf5io: %s %q: negative dimension in shape %v", fn, name, shape))
		}
		if s > 0 && n > maxInt/s {
			panic(fmt.Sprintf("hdf5io: %s %q: shape %v overflows int", fn, name, shape))
		}
		n *= s
	}
	if len(data) != n {
		panic(fmt.Sprintf("hdf5io: %s %q: len(data) = %d, but shape %v holds %d elements", fn, name, len(data), shape, n))
	}
	if dims != "" && strings.Count(dims, ",")+1 != len(shape) {
		panic(fmt.Sprintf("hdf5io: %s %q: dims %q does not name the %d axes of shape %v", fn, name, dims, len(shape), shape))
	}
	p, err := cleanPath(name)
	if err == nil && p == "/" {
		err = errors.New("the root group is not a dataset")
	}
	if err != nil {
		return w.errorf("write dataset", name, err)
	}
	lock()
	defer unlock()
	// The binding takes a pointer to the slice.
	if err := w.writeLocked(p, typ, &data, n, shape, dims, units); err != nil {
		if ns := noSpace(w.tmp, int64(n)*int64(typ.Size())); ns != nil {
			return ns
		}
		return w.errorf("write dataset", p, err)
	}
	return nil
}

func (w *Writer) writeLocked(p string, typ *hdf5.Datatype, data any, n int, shape []int, dims, units string) (err error) {
	fid, err := w.file()
	if err != nil {
		return err
	}
	if i := strings.LastIndexByte(p, '/'); i > 0 {
		if err := w.mkdirAll(p[:i]); err != nil {
			return err
		}
	}
	if _, ok := objType(fid, p); ok {
		return errors.New("an object of that name exists")
	}
	var space *hdf5.Dataspace
	if len(shape) == 0 {
		space, err = hdf5.CreateDataspace(hdf5.S_SCALAR)
	} else {
		ext := make([]uint, len(shape))
		for i, s := range shape {
			ext[i] = uint(s)
		}
		space, err = hdf5.CreateSimpleDataspace(ext, nil)
	}
	if err != nil {
		return fmt.Errorf("creating dataspace for shape %v: %w", shape, libError())
	}
	ds, err := w.f.CreateDataset(p, typ, space)
	space.Close()
	if err != nil {
		return fmt.Errorf("creating dataset of shape %v: %w", shape, libError())
	}
	defer func() {
		if cerr := ds.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("closing: %w", libError())
		}
	}()
	if n > 0 {
		if err := ds.Write(data); err != nil {
			return fmt.Errorf("writing %d elements: %w", n, libError())
		}
	}
	for _, a := range [...]struct{ name, value string }{{"dims", dims}, {"units", units}} {
		if a.value == "" {
			continue
		}
		if err := setString(hid(ds.ID()), a.name, a.value); err != nil {
			return err
		}
	}
	return nil
}

// setString writes a string attribute of obj, checking the value; mu must
// be held.
func setString(obj hid, name, value string) error {
	if strings.IndexByte(value, 0) >= 0 {
		return fmt.Errorf("attribute %q: value contains a NUL byte", name)
	}
	if err := writeStringAttr(obj, name, value); err != nil {
		return fmt.Errorf("writing attribute %q: %w", name, err)
	}
	return nil
}

// setAttr opens the object at objPath and calls set on it.
func (w *Writer) setAttr(objPath, name string, set func(obj hid) error) error {
	op := fmt.Sprintf("set attribute %q of", name)
	p, err := cleanPath(objPath)
	if err == nil {
		err = checkAttrName(name)
	}
	if err != nil {
		return w.errorf(op, objPath, err)
	}
	lock()
	defer unlock()
	fid, err := w.file()
	if err != nil {
		return w.errorf(op, p, err)
	}
	if _, ok := objType(fid, p); !ok {
		return w.errorf(op, p, fmt.Errorf("object %w", ErrNotFound))
	}
	obj, err := openObject(fid, p)
	if err != nil {
		return w.errorf(op, p, fmt.Errorf("opening object: %w", err))
	}
	err = set(obj)
	if cerr := closeObject(obj); cerr != nil && err == nil {
		err = fmt.Errorf("closing object: %w", cerr)
	}
	if err != nil {
		return w.errorf(op, p, err)
	}
	return nil
}

// SetAttrString sets the attribute name of the group or dataset at objPath
// ("/" for the root) to a scalar UTF-8 string, replacing any attribute of
// that name. value may be long (params_json) but may not contain NUL bytes.
func (w *Writer) SetAttrString(objPath, name, value string) error {
	return w.setAttr(objPath, name, func(obj hid) error { return setString(obj, name, value) })
}

// SetAttrFloat64 sets the attribute name of the object at objPath to a
// scalar float64, replacing any attribute of that name.
func (w *Writer) SetAttrFloat64(objPath, name string, v float64) error {
	return w.setAttr(objPath, name, func(obj hid) error {
		t := hid(hdf5.T_NATIVE_DOUBLE.ID())
		return writeNumAttr(obj, name, t, t, 0, 1, unsafe.Pointer(&v))
	})
}

// SetAttrInt64 sets the attribute name of the object at objPath to a
// scalar int64, replacing any attribute of that name.
func (w *Writer) SetAttrInt64(objPath, name string, v int64) error {
	return w.setAttr(objPath, name, func(obj hid) error {
		t := hid(hdf5.T_NATIVE_INT64.ID())
		return writeNumAttr(obj, name, t, t, 0, 1, unsafe.Pointer(&v))
	})
}

// SetAttrUint8 sets the attribute name of the object at objPath to a scalar
// uint8, replacing any attribute of that name. Eddy stores booleans this way,
// as 0 or 1.
func (w *Writer) SetAttrUint8(objPath, name string, v uint8) error {
	return w.setAttr(objPath, name, func(obj hid) error {
		t := hid(hdf5.T_NATIVE_UINT8.ID())
		return writeNumAttr(obj, name, t, t, 0, 1, unsafe.Pointer(&v))
	})
}

// SetAttrFloat64s sets the attribute name of the object at objPath to a
// one-dimensional float64 array of len(v) elements (possibly none),
// replacing any attribute of that name.
func (w *Writer) SetAttrFloat64s(objPath, name string, v []float64) error {
	return w.setAttr(objPath, name, func(obj hid) error {
		t := hid(hdf5.T_NATIVE_DOUBLE.ID())
		var buf unsafe.Pointer
		if len(v) > 0 {
			buf = unsafe.Pointer(&v[0])
		}
		return writeNumAttr(obj, name, t, t, 1, len(v), buf)
	})
}
