package hdf5io

// Hyperslab reads: one rectangular, possibly strided, block of a dataset,
// without reading the rest of it.

/*
#cgo pkg-config: hdf5
#include "hdf5.h"

// eddy_read_slab reads into buf, of memory type mem, the hyperslab of ds
// given per axis by start, stride and count (rank axes; rank 0 reads a
// scalar). The memory dataspace is one-dimensional: the elements arrive in
// row-major order of the selection.
static herr_t eddy_read_slab(hid_t ds, hid_t mem, int rank, const hsize_t *start,
		const hsize_t *stride, const hsize_t *count, void *buf) {
	herr_t r = -1;
	hid_t fs = H5Dget_space(ds), ms = -1;
	if (fs < 0) return -1;
	if (rank > 0) {
		hsize_t n = 1;
		for (int i = 0; i < rank; i++) n *= count[i];
		if (H5Sselect_hyperslab(fs, H5S_SELECT_SET, start, stride, count, NULL) < 0) goto done;
		ms = H5Screate_simple(1, &n, NULL);
	} else {
		ms = H5Screate(H5S_SCALAR);
	}
	if (ms < 0) goto done;
	r = H5Dread(ds, mem, ms, fs, H5P_DEFAULT, buf);
done:
	if (ms >= 0) H5Sclose(ms);
	H5Sclose(fs);
	return r;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"unsafe"

	"gonum.org/v1/hdf5"
)

// Range selects, on one axis of extent n, the indices Start, Start+Step, …
// that are below Stop: 0 ≤ Start ≤ Stop ≤ n and Step ≥ 1 (numpy's
// start:stop:step with non-negative bounds already resolved).
type Range struct{ Start, Stop, Step int }

// Len is the number of indices the range selects.
func (r Range) Len() int {
	if r.Stop <= r.Start {
		return 0
	}
	return (r.Stop - r.Start + r.Step - 1) / r.Step
}

// All returns the ranges that select the whole of each axis of shape.
func All(shape []int) []Range {
	sel := make([]Range, len(shape))
	for i, n := range shape {
		sel[i] = Range{0, n, 1}
	}
	return sel
}

// Describe describes the dataset name: its full path, shape and dtype, as
// Datasets does for every dataset. An error for a missing dataset wraps
// ErrNotFound.
func (f *File) Describe(name string) (DatasetInfo, error) {
	p, err := cleanPath(name)
	if err != nil {
		return DatasetInfo{}, f.errorf("describe dataset", name, err)
	}
	lock()
	defer unlock()
	fid, err := f.file()
	if err != nil {
		return DatasetInfo{}, f.errorf("describe dataset", p, err)
	}
	switch t, ok := objType(fid, p); {
	case !ok:
		return DatasetInfo{}, f.errorf("describe dataset", p, fmt.Errorf("dataset %w", ErrNotFound))
	case t != objDataset:
		return DatasetInfo{}, f.errorf("describe dataset", p, errors.New("not a dataset"))
	}
	d, err := f.describe(p)
	if err != nil {
		return DatasetInfo{}, f.errorf("describe dataset", p, fmt.Errorf("%w: %w", ErrFormat, err))
	}
	return DatasetInfo{Name: p, Shape: d.shape, Dtype: d.dtype()}, nil
}

// ReadFloat64Slab reads the hyperslab sel (one Range per axis) of the
// dataset name, of any numeric dtype, converted to float64, in row-major
// order of the selection, with the selection's shape (the Len of each
// range). Only the selected elements are read from the file and held in
// memory: reading one frame of a sample,t,y,x dataset costs y·x elements
// whatever the number of samples and frames. A selection of the wrong rank
// or outside the dataset's extent is an error; scalars take an empty sel.
func (f *File) ReadFloat64Slab(name string, sel []Range) ([]float64, []int, error) {
	return readSlab[float64](f, name, sel, hdf5.T_NATIVE_DOUBLE, "an integer or float type", desc.numeric)
}

// ReadFloat32Slab reads a hyperslab of a float32 dataset as ReadFloat64Slab
// does.
func (f *File) ReadFloat32Slab(name string, sel []Range) ([]float32, []int, error) {
	return readSlab[float32](f, name, sel, hdf5.T_NATIVE_FLOAT, "float32", is("float32"))
}

// ReadInt64Slab reads a hyperslab of an int64 dataset as ReadFloat64Slab
// does.
func (f *File) ReadInt64Slab(name string, sel []Range) ([]int64, []int, error) {
	return readSlab[int64](f, name, sel, hdf5.T_NATIVE_INT64, "int64", is("int64"))
}

// ReadUint8Slab reads a hyperslab of a uint8 dataset as ReadFloat64Slab
// does.
func (f *File) ReadUint8Slab(name string, sel []Range) ([]uint8, []int, error) {
	return readSlab[uint8](f, name, sel, hdf5.T_NATIVE_UINT8, "uint8", is("uint8"))
}

// ReadInt8Slab reads a hyperslab of an int8 dataset as ReadFloat64Slab
// does.
func (f *File) ReadInt8Slab(name string, sel []Range) ([]int8, []int, error) {
	return readSlab[int8](f, name, sel, hdf5.T_NATIVE_INT8, "int8", is("int8"))
}

func readSlab[T element](f *File, name string, sel []Range, mem *hdf5.Datatype, want string, accept func(desc) bool) ([]T, []int, error) {
	p, err := cleanPath(name)
	if err != nil {
		return nil, nil, f.errorf("read hyperslab of", name, err)
	}
	lock()
	defer unlock()
	data, shape, err := readSlabLocked[T](f, p, sel, mem, want, accept)
	if err != nil {
		return nil, nil, f.errorf("read hyperslab of", p, err)
	}
	return data, shape, nil
}

func readSlabLocked[T element](f *File, p string, sel []Range, mem *hdf5.Datatype, want string, accept func(desc) bool) (data []T, shape []int, err error) {
	ds, d, err := openDataset(f, p, want, accept)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if cerr := ds.Close(); cerr != nil && err == nil {
			data, shape, err = nil, nil, fmt.Errorf("closing: %w", libError())
		}
	}()
	if d.shape == nil {
		return nil, nil, errors.New("null dataspace (no elements)")
	}
	if len(sel) != len(d.shape) {
		return nil, nil, fmt.Errorf("selection of rank %d for a dataset of shape %v", len(sel), d.shape)
	}
	var zero T
	size := int(unsafe.Sizeof(zero))
	shape = make([]int, len(sel))
	n := 1
	start := make([]C.hsize_t, max(1, len(sel)))
	stride := make([]C.hsize_t, max(1, len(sel)))
	count := make([]C.hsize_t, max(1, len(sel)))
	for i, r := range sel {
		if r.Step < 1 || r.Start < 0 || r.Stop < r.Start || r.Stop > d.shape[i] {
			return nil, nil, fmt.Errorf("axis %d: range %d:%d:%d outside 0:%d", i, r.Start, r.Stop, r.Step, d.shape[i])
		}
		shape[i] = r.Len()
		if shape[i] > 0 && n > maxInt/size/shape[i] {
			return nil, nil, fmt.Errorf("selection %v too large", shape)
		}
		n *= shape[i]
		start[i], stride[i], count[i] = C.hsize_t(r.Start), C.hsize_t(r.Step), C.hsize_t(shape[i])
	}
	if dataOutside(hid(ds.ID())) {
		return nil, nil, errors.New("data stored outside the file (external or virtual dataset) is not read")
	}
	if err := plausible(n, size, min(storageSize(hid(ds.ID())), uint64(f.size))); err != nil {
		return nil, nil, err
	}
	data = make([]T, n)
	if n == 0 {
		return data, shape, nil
	}
	r := C.eddy_read_slab(hid(ds.ID()), hid(mem.ID()), C.int(len(sel)), &start[0], &stride[0], &count[0], unsafe.Pointer(&data[0]))
	if err := check(r); err != nil {
		return nil, nil, fmt.Errorf("reading %d elements: %w", n, err)
	}
	return data, shape, nil
}
