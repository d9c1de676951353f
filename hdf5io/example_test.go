package hdf5io_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"eddy/hdf5io"
)

func Example() {
	dir, err := os.MkdirTemp("", "hdf5io-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "result.h5")

	// Write a result following the conventions of Eddy.
	w, err := hdf5io.Create(path)
	if err != nil {
		log.Fatal(err)
	}
	// Abort discards the file unless Close succeeded.
	defer w.Abort()
	u := []float64{0, 0.5, 1, 0.5, 1, 1.5} // row-major, 2×3
	for _, err := range []error{
		w.SetAttrString("/", "eddy_kind", "poisson.solve"),
		w.SetAttrString("/", "params_json", `{"n":3}`),
		w.WriteFloat64("solution", u, []int{2, 3}, "y,x", ""),
		w.CreateGroup("/metrics"),
		w.SetAttrInt64("/metrics", "iterations", 37),
	} {
		if err != nil {
			log.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		log.Fatal(err)
	}

	// Read it back.
	infos, err := hdf5io.Inspect(path)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(infos)
	f, err := hdf5io.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	data, shape, err := f.ReadFloat64("/solution")
	if err != nil {
		log.Fatal(err)
	}
	dims, err := f.AttrString("/solution", "dims")
	if err != nil {
		log.Fatal(err)
	}
	iters, err := f.AttrInt64("/metrics", "iterations")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(shape, dims, data[1*3+2], iters)
	// Output:
	// [{/solution [2 3] float64}]
	// [2 3] y,x 1.5 37
}
