// Package hdf5io reads and writes the HDF5 files of Eddy: job results,
// uploads and trained models. It is the only package of Eddy that calls
// libhdf5, and every call into the library is serialised by one lock held by
// this package, so that its functions and methods may be used from any
// number of goroutines at once. Large reads and writes therefore block other
// HDF5 work for their duration.
//
// # HDF5 conventions
//
// Every file Eddy writes follows these conventions:
//
//   - Root attributes eddy_kind, eddy_job_id, eddy_version and params_json
//     (the validated params as JSON).
//   - Arrays are float64 (uint8 or int8 where natural), stored row-major
//     (C order: the last axis varies fastest) with the shape given when
//     written. Each dataset has a string attribute dims naming its axes,
//     comma-separated from the first axis to the last, e.g. "sample,t,y,x",
//     and a string attribute units where meaningful.
//   - Scalar results (errors, iteration counts, timings) are attributes of
//     the group /metrics.
//   - A trained model is one dataset per parameter tensor, with the
//     architecture in params_json.
//
// Objects are named by absolute slash-separated paths such as "/solution" or
// "/metrics"; a leading slash may be omitted, and "/" is the root group.
// String attributes are scalar variable-length UTF-8 strings; they cannot
// hold NUL bytes.
//
// # Writing and reading
//
// Create writes to a temporary file in the destination directory; Close
// renames it onto the destination, so a file at the destination is always
// complete. Open reads a file; ReadFloat64 converts any integer or float
// dataset to float64. Inspect validates a file from an untrusted source
// and lists its datasets.
//
// Shape mismatches between data and shape are programmer errors and panic.
// Everything that depends on the file (missing objects, wrong types,
// corrupt files) is returned as an error that names the file and object;
// such errors wrap ErrNotFound or ErrFormat where those apply.
package hdf5io
