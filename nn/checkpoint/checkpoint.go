// Package checkpoint stores the parameters of an nn model in an HDF5 file
// and loads them into a model built from the same architecture.
//
// Layout (Eddy's HDF5 conventions): each parameter is the float64 dataset
// /params/<name>, with its tensor's shape and a dims attribute "axis0,…";
// the architecture JSON from which the model is built is the root attribute
// params_json. A model trained by one job is thus the input of another:
// read Architecture, build the model from it, then Load.
package checkpoint

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"eddy/hdf5io"
	"eddy/nn"
)

// Group is the HDF5 group that holds the parameter datasets.
const Group = "/params"

// ArchAttr is the root attribute that holds the architecture JSON.
const ArchAttr = "params_json"

func dims(rank int) string {
	names := make([]string, rank)
	for i := range names {
		names[i] = "axis" + strconv.Itoa(i)
	}
	return strings.Join(names, ",")
}

// Write writes every parameter to w as the dataset /params/<name>. Names
// must be unique and must not contain "/".
func Write(w *hdf5io.Writer, params []*nn.Param) error { return WriteGroup(w, Group, params) }

// WriteGroup is Write into the group at path group ("/model/params")
// instead of /params; the group is created with its parents.
func WriteGroup(w *hdf5io.Writer, group string, params []*nn.Param) error {
	seen := make(map[string]bool, len(params))
	for _, p := range params {
		if p.Name == "" || strings.Contains(p.Name, "/") || seen[p.Name] {
			return fmt.Errorf("checkpoint: parameter name %q is empty, contains '/' or is repeated", p.Name)
		}
		seen[p.Name] = true
	}
	if err := w.CreateGroup(group); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	for _, p := range params {
		if err := w.WriteFloat64(group+"/"+p.Name, p.Value.Data, p.Value.Shape, dims(p.Value.Rank()), ""); err != nil {
			return fmt.Errorf("checkpoint: parameter %q: %w", p.Name, err)
		}
	}
	return nil
}

// Read copies the datasets /params/<name> of f into the values of params.
// Every parameter must be present with its exact shape, and the file must
// hold no other parameter: a checkpoint of another architecture is an
// error naming the first difference.
func Read(f *hdf5io.File, params []*nn.Param) error { return ReadGroup(f, Group, params) }

// ReadGroup is Read from the group at path group instead of /params.
func ReadGroup(f *hdf5io.File, group string, params []*nn.Param) error {
	infos, err := f.Datasets()
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	inFile := map[string]hdf5io.DatasetInfo{}
	for _, d := range infos {
		if name, ok := strings.CutPrefix(d.Name, group+"/"); ok && !strings.Contains(name, "/") {
			inFile[name] = d
		}
	}
	for _, p := range params {
		d, ok := inFile[p.Name]
		if !ok {
			return fmt.Errorf("checkpoint: parameter %q %v is not in the file", p.Name, p.Value.Shape)
		}
		if !slices.Equal(d.Shape, p.Value.Shape) {
			return fmt.Errorf("checkpoint: parameter %q has shape %v in the file and %v in the model", p.Name, d.Shape, p.Value.Shape)
		}
		delete(inFile, p.Name)
	}
	for name := range inFile {
		return fmt.Errorf("checkpoint: the file has parameter %q, which the model does not", name)
	}
	for _, p := range params {
		data, _, err := f.ReadFloat64(group + "/" + p.Name)
		if err != nil {
			return fmt.Errorf("checkpoint: parameter %q: %w", p.Name, err)
		}
		copy(p.Value.Data, data)
	}
	return nil
}

// Save writes the file at path, atomically: the root attribute params_json
// set to arch and the parameters as Write does.
func Save(path string, arch []byte, params []*nn.Param) error {
	w, err := hdf5io.Create(path)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer w.Abort()
	if err := w.SetAttrString("/", ArchAttr, string(arch)); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if err := Write(w, params); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// Architecture returns the params_json attribute of the file at path.
func Architecture(path string) ([]byte, error) {
	f, err := hdf5io.Open(path)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	s, err := f.AttrString("/", ArchAttr)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %w", err)
	}
	return []byte(s), nil
}

// Load reads the parameters of the file at path into params (see Read).
func Load(path string, params []*nn.Param) error {
	f, err := hdf5io.Open(path)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	defer f.Close()
	return Read(f, params)
}
