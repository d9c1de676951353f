// Package h5test holds test helpers for HDF5 result files.
package h5test

import (
	"fmt"
	"math"
	"testing"

	"eddy/hdf5io"
)

// SameDatasets checks that two files hold the same datasets, by name and
// shape, with bit-identical values (compared as float64, which every
// dataset Eddy writes converts to exactly).
func SameDatasets(t testing.TB, f1, f2 *hdf5io.File) {
	t.Helper()
	d1, err := f1.Datasets()
	if err != nil {
		t.Fatal(err)
	}
	d2, err := f2.Datasets()
	if err != nil {
		t.Fatal(err)
	}
	if len(d1) != len(d2) || len(d1) == 0 {
		t.Fatalf("datasets %v and %v", d1, d2)
	}
	for i, d := range d1 {
		if d2[i].Name != d.Name {
			t.Fatalf("dataset %d: %s and %s", i, d.Name, d2[i].Name)
		}
		a, sa, err := f1.ReadFloat64(d.Name)
		if err != nil {
			t.Fatal(err)
		}
		b, sb, err := f2.ReadFloat64(d.Name)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(sa) != fmt.Sprint(sb) {
			t.Errorf("%s: shapes %v and %v", d.Name, sa, sb)
			continue
		}
		diff, first := 0, -1
		for j := range a {
			if math.Float64bits(a[j]) != math.Float64bits(b[j]) {
				if first < 0 {
					first = j
				}
				diff++
			}
		}
		if diff > 0 {
			t.Errorf("%s: %d of %d values differ, the first at %d: %v and %v", d.Name, diff, len(a), first, a[first], b[first])
		}
	}
}
