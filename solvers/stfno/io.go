package stfno

import (
	"encoding/json"
	"fmt"
	"path"

	"eddy/hdf5io"
	"eddy/nn/checkpoint"
)

// ArchAttr is the attribute of a model's group that holds its architecture
// JSON (the Config).
const ArchAttr = "params_json"

// Write stores m in the HDF5 group at path group ("/model"): the attribute
// params_json with the architecture JSON and the parameters as float64
// datasets <group>/params/<name> (see package nn/checkpoint).
func (m *Model) Write(w *hdf5io.Writer, group string) error {
	group = path.Clean("/" + group)
	arch, err := json.Marshal(m.Config)
	if err != nil {
		return fmt.Errorf("stfno: %w", err)
	}
	if err := w.CreateGroup(group); err != nil {
		return fmt.Errorf("stfno: %w", err)
	}
	if err := w.SetAttrString(group, ArchAttr, string(arch)); err != nil {
		return fmt.Errorf("stfno: %w", err)
	}
	if err := checkpoint.WriteGroup(w, path.Join(group, "params"), m.Params()); err != nil {
		return fmt.Errorf("stfno: %w", err)
	}
	return nil
}

// Read builds the model stored by Write in the group at path group.
func Read(f *hdf5io.File, group string) (*Model, error) {
	group = path.Clean("/" + group)
	arch, err := f.AttrString(group, ArchAttr)
	if err != nil {
		return nil, fmt.Errorf("stfno: %w", err)
	}
	c, err := parseConfig([]byte(arch))
	if err != nil {
		return nil, err
	}
	m, err := New(c, 0)
	if err != nil {
		return nil, err
	}
	if err := checkpoint.ReadGroup(f, path.Join(group, "params"), m.Params()); err != nil {
		return nil, fmt.Errorf("stfno: %w", err)
	}
	return m, nil
}
