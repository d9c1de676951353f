package hdf5io

import (
	"errors"
	"fmt"
	"math"
	"os"
	"unsafe"

	"gonum.org/v1/hdf5"
)

// DatasetInfo describes a dataset of a file.
type DatasetInfo struct {
	// Name is the full path, such as "/solution" or "/metrics/x".
	Name string `json:"name"`
	// Shape is the extent of each axis, row-major; empty for a scalar and
	// nil for a dataset without a dataspace (HDF5's null dataspace).
	Shape []int `json:"shape"`
	// Dtype is the element type: "float64", "float32", "int8", "uint8",
	// "int16", "uint16", "int32", "uint32", "int64" or "uint64" for the
	// standard numeric types of HDF5 (in either byte order), else
	// "string", "compound", "enum" or "other".
	Dtype string `json:"dtype"`
}

// File is an HDF5 file open for reading. A File may be used from several
// goroutines.
type File struct {
	path string
	size int64      // bytes, when opened
	f    *hdf5.File // nil once closed
}

// Open opens the HDF5 file at path for reading. An error for a file that is
// not HDF5 or that libhdf5 cannot open wraps ErrFormat; one for a file that
// cannot be read at all wraps the error of the operating system.
func Open(path string) (*File, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("hdf5io: open: %w", err)
	}
	st, err := fh.Stat()
	fh.Close()
	if err == nil && !st.Mode().IsRegular() {
		err = errors.New("not a regular file")
	}
	if err != nil {
		return nil, fmt.Errorf("hdf5io: open %q: %w", path, err)
	}
	lock()
	defer unlock()
	if !hdf5.IsHDF5(path) {
		return nil, fmt.Errorf("hdf5io: open %q: %w: no HDF5 signature", path, ErrFormat)
	}
	f, err := hdf5.OpenFile(path, hdf5.F_ACC_RDONLY)
	if err != nil {
		return nil, fmt.Errorf("hdf5io: open %q: %w: %w", path, ErrFormat, libError())
	}
	return &File{path: path, size: st.Size(), f: f}, nil
}

// Close closes the file. Closing a closed file does nothing.
func (f *File) Close() error {
	lock()
	defer unlock()
	if f.f == nil {
		return nil
	}
	err := f.f.Close()
	f.f = nil
	if err != nil {
		return fmt.Errorf("hdf5io: close %q: %w", f.path, libError())
	}
	return nil
}

func (f *File) errorf(op, obj string, err error) error {
	return fmt.Errorf("hdf5io: %s %q in %q: %w", op, obj, f.path, err)
}

// file returns the open file or an error; mu must be held.
func (f *File) file() (hid, error) {
	if f.f == nil {
		return -1, os.ErrClosed
	}
	return hid(f.f.ID()), nil
}

// Datasets lists every dataset reachable from the root group by hard links,
// sorted by name; soft and external links are not followed. Its cost is one
// visit of each object header, independent of the size of the data. An
// error wraps ErrFormat.
func (f *File) Datasets() ([]DatasetInfo, error) {
	lock()
	defer unlock()
	fid, err := f.file()
	if err != nil {
		return nil, fmt.Errorf("hdf5io: list datasets in %q: %w", f.path, err)
	}
	rel, err := listDatasets(fid)
	if err != nil {
		return nil, fmt.Errorf("hdf5io: list datasets in %q: %w: %w", f.path, ErrFormat, err)
	}
	out := make([]DatasetInfo, 0, len(rel))
	for _, r := range rel {
		name := "/" + r
		d, err := f.describe(name)
		if err != nil {
			return nil, f.errorf("describe dataset", name, fmt.Errorf("%w: %w", ErrFormat, err))
		}
		out = append(out, DatasetInfo{Name: name, Shape: d.shape, Dtype: d.dtype()})
	}
	return out, nil
}

// describe describes the dataset at the canonical path p; mu must be held.
func (f *File) describe(p string) (desc, error) {
	ds, err := f.f.OpenDataset(p)
	if err != nil {
		return desc{}, fmt.Errorf("opening: %w", libError())
	}
	d, err := describeDataset(hid(ds.ID()))
	if cerr := ds.Close(); cerr != nil && err == nil {
		err = libError()
	}
	return d, err
}

// ReadFloat64 reads the dataset name, which may be of any of the numeric
// dtypes of DatasetInfo, converted to float64, and returns its elements in row-major order
// with its shape. Integers beyond ±2⁵³ are rounded. The whole dataset is
// read into memory: when the file is untrusted, check its shape with
// Datasets first. A dataset declaring more than 1100 times as many bytes as
// it occupies in the file (and more than 64 MiB) is refused as corrupt, and
// so is one whose data lies in other files (external or virtual storage).
func (f *File) ReadFloat64(name string) ([]float64, []int, error) {
	return read[float64](f, name, hdf5.T_NATIVE_DOUBLE, "an integer or float type", desc.numeric)
}

// ReadFloat32 reads a float32 dataset as ReadFloat64 does; the dataset must
// be float32.
func (f *File) ReadFloat32(name string) ([]float32, []int, error) {
	return read[float32](f, name, hdf5.T_NATIVE_FLOAT, "float32", is("float32"))
}

// ReadUint8 reads a uint8 dataset as ReadFloat64 does; the dataset must be
// uint8.
func (f *File) ReadUint8(name string) ([]uint8, []int, error) {
	return read[uint8](f, name, hdf5.T_NATIVE_UINT8, "uint8", is("uint8"))
}

// ReadInt8 reads an int8 dataset as ReadFloat64 does; the dataset must be
// int8.
func (f *File) ReadInt8(name string) ([]int8, []int, error) {
	return read[int8](f, name, hdf5.T_NATIVE_INT8, "int8", is("int8"))
}

// ReadInt64 reads an int64 dataset as ReadFloat64 does; the dataset must be
// int64.
func (f *File) ReadInt64(name string) ([]int64, []int, error) {
	return read[int64](f, name, hdf5.T_NATIVE_INT64, "int64", is("int64"))
}

func is(dtype string) func(desc) bool {
	return func(d desc) bool { return d.dtype() == dtype }
}

func read[T element](f *File, name string, mem *hdf5.Datatype, want string, accept func(desc) bool) ([]T, []int, error) {
	p, err := cleanPath(name)
	if err != nil {
		return nil, nil, f.errorf("read dataset", name, err)
	}
	lock()
	defer unlock()
	data, shape, err := readLocked[T](f, p, mem, want, accept)
	if err != nil {
		return nil, nil, f.errorf("read dataset", p, err)
	}
	return data, shape, nil
}

// openDataset opens the dataset at p, checks that its element type is one
// accept takes (want names them, for the error) and describes it; mu must
// be held. The caller closes ds.
func openDataset(f *File, p, want string, accept func(desc) bool) (*hdf5.Dataset, desc, error) {
	fid, err := f.file()
	if err != nil {
		return nil, desc{}, err
	}
	switch t, ok := objType(fid, p); {
	case !ok:
		return nil, desc{}, fmt.Errorf("dataset %w", ErrNotFound)
	case t != objDataset:
		return nil, desc{}, errors.New("not a dataset")
	}
	ds, err := f.f.OpenDataset(p)
	if err != nil {
		return nil, desc{}, fmt.Errorf("opening: %w", libError())
	}
	d, err := describeDataset(hid(ds.ID()))
	switch {
	case err != nil:
		err = fmt.Errorf("describing: %w", err)
	case !accept(d):
		err = fmt.Errorf("dtype is %s, want %s", d.dtype(), want)
	}
	if err != nil {
		ds.Close()
		return nil, desc{}, err
	}
	return ds, d, nil
}

func readLocked[T element](f *File, p string, mem *hdf5.Datatype, want string, accept func(desc) bool) (data []T, shape []int, err error) {
	ds, d, err := openDataset(f, p, want, accept)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if cerr := ds.Close(); cerr != nil && err == nil {
			data, shape, err = nil, nil, fmt.Errorf("closing: %w", libError())
		}
	}()
	var zero T
	n, err := d.count(int(unsafe.Sizeof(zero)))
	if err != nil {
		return nil, nil, err
	}
	if dataOutside(hid(ds.ID())) {
		// External and virtual storage name other files, which a file from
		// an untrusted source could use to read any file of the machine.
		return nil, nil, errors.New("data stored outside the file (external or virtual dataset) is not read")
	}
	if err := plausible(n, int(unsafe.Sizeof(zero)), min(storageSize(hid(ds.ID())), uint64(f.size))); err != nil {
		return nil, nil, err
	}
	data = make([]T, n)
	if n > 0 {
		if err := readDataset(hid(ds.ID()), hid(mem.ID()), unsafe.Pointer(&data[0])); err != nil {
			return nil, nil, fmt.Errorf("reading %d elements: %w", n, err)
		}
	}
	return data, d.shape, nil
}

// Limits of plausible reads. A dataset whose header declares more data than
// it could hold is corrupt or hostile, and allocating for it could exhaust
// memory; no compression filter of libhdf5 reaches a ratio of maxRatio on
// realistic data, but filters such as scale-offset can on constant data, and
// unwritten datasets hold only their fill value: such datasets are read
// only up to minLimit bytes.
const (
	maxRatio = 1100
	minLimit = 64 << 20
)

// plausible checks that n elements of size bytes each may be read from
// stored bytes of the file.
func plausible(n, size int, stored uint64) error {
	bytes := uint64(n) * uint64(size)
	if bytes <= minLimit || bytes/maxRatio <= stored {
		return nil
	}
	return fmt.Errorf("%w: %d bytes of data stored in %d bytes", ErrFormat, bytes, stored)
}

// attr opens the attribute name of the object at objPath and calls get on
// it with its description.
func (f *File) attr(objPath, name string, get func(a hid, d desc) error) error {
	op := fmt.Sprintf("read attribute %q of", name)
	p, err := cleanPath(objPath)
	if err == nil {
		err = checkAttrName(name)
	}
	if err != nil {
		return f.errorf(op, objPath, err)
	}
	lock()
	defer unlock()
	err = f.withObject(p, func(obj hid) error {
		a, ok, err := openAttr(obj, name)
		if err != nil {
			return fmt.Errorf("opening: %w", err)
		}
		if !ok {
			return fmt.Errorf("attribute %w", ErrNotFound)
		}
		d, err := describeAttr(a)
		if err == nil {
			err = get(a, d)
		}
		if cerr := closeAttr(a); cerr != nil && err == nil {
			err = fmt.Errorf("closing: %w", cerr)
		}
		return err
	})
	if err != nil {
		return f.errorf(op, p, err)
	}
	return nil
}

// withObject opens the object at the canonical path p and calls fn on it;
// mu must be held.
func (f *File) withObject(p string, fn func(obj hid) error) error {
	fid, err := f.file()
	if err != nil {
		return err
	}
	if _, ok := objType(fid, p); !ok {
		return fmt.Errorf("object %w", ErrNotFound)
	}
	obj, err := openObject(fid, p)
	if err != nil {
		return fmt.Errorf("opening object: %w", err)
	}
	err = fn(obj)
	if cerr := closeObject(obj); cerr != nil && err == nil {
		err = fmt.Errorf("closing object: %w", cerr)
	}
	return err
}

// AttrString returns the string attribute name of the object at objPath
// ("/" for the root). Fixed-length strings written by other programs are
// returned without their padding.
func (f *File) AttrString(objPath, name string) (string, error) {
	var s string
	err := f.attr(objPath, name, func(a hid, d desc) (err error) {
		s, err = readStringAttr(a)
		return err
	})
	return s, err
}

// AttrFloat64 returns the attribute name of the object at objPath, which
// must hold one number of a standard integer or float type, converted to
// float64.
func (f *File) AttrFloat64(objPath, name string) (float64, error) {
	var v float64
	err := f.attr(objPath, name, func(a hid, d desc) error {
		if err := single(d, d.numeric()); err != nil {
			return err
		}
		return readAttr(a, hid(hdf5.T_NATIVE_DOUBLE.ID()), unsafe.Pointer(&v))
	})
	return v, err
}

// AttrInt64 returns the attribute name of the object at objPath, which must
// hold one integer that fits in an int64.
func (f *File) AttrInt64(objPath, name string) (int64, error) {
	var v int64
	err := f.attr(objPath, name, func(a hid, d desc) error {
		if err := single(d, d.class == classInteger); err != nil {
			return err
		}
		if d.dtype() != "uint64" {
			return readAttr(a, hid(hdf5.T_NATIVE_INT64.ID()), unsafe.Pointer(&v))
		}
		var u uint64
		if err := readAttr(a, hid(hdf5.T_NATIVE_UINT64.ID()), unsafe.Pointer(&u)); err != nil {
			return err
		}
		if u > math.MaxInt64 {
			return fmt.Errorf("value %d overflows int64", u)
		}
		v = int64(u)
		return nil
	})
	return v, err
}

// AttrDtype returns the element type of the attribute name of the object at
// objPath, named as in DatasetInfo.Dtype ("float64", "int64", "uint8",
// "string", …).
func (f *File) AttrDtype(objPath, name string) (string, error) {
	var t string
	err := f.attr(objPath, name, func(a hid, d desc) error {
		t = d.dtype()
		return nil
	})
	return t, err
}

// single checks that an attribute holds one element of an accepted type.
func single(d desc, accept bool) error {
	if !accept {
		return fmt.Errorf("dtype is %s", d.dtype())
	}
	if n, err := d.count(8); err != nil || n != 1 {
		return fmt.Errorf("shape is %v, want one element", d.shape)
	}
	return nil
}

// AttrFloat64s returns the attribute name of the object at objPath, which
// may hold any number of standard integers or floats in any shape, converted to
// float64 and flattened in row-major order.
func (f *File) AttrFloat64s(objPath, name string) ([]float64, error) {
	var v []float64
	err := f.attr(objPath, name, func(a hid, d desc) error {
		if !d.numeric() {
			return fmt.Errorf("dtype is %s", d.dtype())
		}
		n, err := d.count(8)
		if err != nil {
			if d.shape != nil {
				return err
			}
			n = 0 // A null dataspace holds no elements.
		}
		v = make([]float64, n)
		if n == 0 {
			return nil
		}
		return readAttr(a, hid(hdf5.T_NATIVE_DOUBLE.ID()), unsafe.Pointer(&v[0]))
	})
	return v, err
}

// AttrNames returns the names of the attributes of the object at objPath,
// sorted.
func (f *File) AttrNames(objPath string) ([]string, error) {
	p, err := cleanPath(objPath)
	if err != nil {
		return nil, f.errorf("list attributes of", objPath, err)
	}
	lock()
	defer unlock()
	var names []string
	err = f.withObject(p, func(obj hid) (err error) {
		names, err = listAttrs(obj)
		return err
	})
	if err != nil {
		return nil, f.errorf("list attributes of", p, err)
	}
	return names, nil
}

// Inspect validates that the file at path, which may come from an
// untrusted source, is an HDF5 file that libhdf5 can read, and lists its
// datasets as File.Datasets does. It returns an error wrapping ErrFormat
// for a file that is not HDF5, truncated or corrupt.
//
// Inspect reads object headers only. It runs libhdf5 in this process: it
// rejects the malformed files that the library detects, but a file crafted
// to exploit a flaw of libhdf5 can only be contained by a separate process.
// Of the reads that may follow, ReadFloat64 guards against corrupt element
// types and sizes; string attributes of a corrupt file can crash libhdf5
// 1.10.8, so read only datasets of untrusted files.
func Inspect(path string) (infos []DatasetInfo, err error) {
	defer func() {
		if r := recover(); r != nil {
			infos, err = nil, fmt.Errorf("hdf5io: inspect %q: %w: %v", path, ErrFormat, r)
		}
	}()
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	infos, err = f.Datasets()
	if cerr := f.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil {
		return nil, err
	}
	return infos, nil
}
