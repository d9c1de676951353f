package walloc

import (
	"encoding/json"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"eddy/codec/wavelet"
	"eddy/hdf5io"
	"eddy/nn/checkpoint"
)

// positions returns the number of latent positions n of a sample of the
// given shape, or an error if the shape does not suit the model.
func (m *Model) positions(shape []int) (int, error) {
	bl := m.Block()
	switch {
	case m.Signal == Image && len(shape) == 3 && shape[0] == 3 && shape[1]%bl == 0 && shape[2]%bl == 0 && shape[1] > 0 && shape[2] > 0:
		return shape[1] / bl * (shape[2] / bl), nil
	case m.Signal == Audio && len(shape) == 2 && shape[0] == 2 && shape[1]%bl == 0 && shape[1] > 0:
		return shape[1] / bl, nil
	}
	return 0, fmt.Errorf("walloc: sample of shape %v does not suit a %s model with blocks of %d", shape, m.Signal, bl)
}

// packets returns the wavelet packet channels (D, n) of a sample and n.
func (m *Model) packets(s Sample) ([]float32, int, error) {
	n, err := m.positions(s.Shape)
	if err != nil {
		return nil, 0, err
	}
	x := append([]float32(nil), s.Data...)
	if m.Signal == Image {
		wavelet.NewPacket2D[float32](s.Shape[1], s.Shape[2], m.Levels).Forward(x, x)
	} else {
		wavelet.NewPacket1D[float32](s.Shape[1], m.Levels).Forward(x, x)
	}
	return x, n, nil
}

// InitPCA sets the encoder and the decoder's linear path from the principal
// components of the wavelet packet vectors (one D-vector per latent
// position) of the samples (spec §5, "linear WaLLoC"): with mean μ and the K
// leading unit eigenvectors P (K × D) of their covariance, ordered by
// decreasing eigenvalue and signed so that each row's largest entry is
// positive,
//
//	encoder z = g·P (x − μ),   skip x̂ = Pᵀ ẑ / g + μ,
//
// g = Config.Gain, and the CNN's output layer is left at zero, so that the
// codec is PCA truncation plus the quantiser of step about 1/(1.48 g). Cost
// D² per vector and D³ for the eigendecomposition.
func (m *Model) InitPCA(samples []Sample) error {
	d, k := m.PacketChannels(), m.LatentChannels
	mean := make([]float64, d)
	cov := mat.NewSymDense(d, nil)
	var total int
	const chunk = 256
	buf := make([]float64, chunk*d)
	for _, s := range samples {
		x, n, err := m.packets(s)
		if err != nil {
			return err
		}
		for j0 := 0; j0 < n; j0 += chunk {
			nj := min(chunk, n-j0)
			blk := mat.NewDense(nj, d, buf[:nj*d])
			for j := range nj {
				for c := range d {
					v := float64(x[c*n+j0+j])
					buf[j*d+c] = v
					mean[c] += v
				}
			}
			cov.SymRankK(cov, 1, blk.T())
		}
		total += n
	}
	if total < 2 {
		return fmt.Errorf("walloc: PCA needs at least 2 vectors, got %d", total)
	}
	for c := range mean {
		mean[c] /= float64(total)
	}
	// Covariance = E[x xᵀ] − μ μᵀ.
	for i := range d {
		for j := i; j < d; j++ {
			cov.SetSym(i, j, cov.At(i, j)/float64(total)-mean[i]*mean[j])
		}
	}
	var eig mat.EigenSym
	if !eig.Factorize(cov, true) {
		return fmt.Errorf("walloc: PCA: eigendecomposition failed")
	}
	var vec mat.Dense
	eig.VectorsTo(&vec)
	g := m.Gain
	ew, eb := m.Encoder.W.Value.Data, m.Encoder.B.Value.Data
	sw, sb := m.Skip.W.Value.Data, m.Skip.B.Value.Data
	row := make([]float64, d)
	for i := range k {
		col := d - 1 - i // eigenvalues ascend
		big := 0.0
		for c := range d {
			row[c] = vec.At(c, col)
			if math.Abs(row[c]) > math.Abs(big) {
				big = row[c]
			}
		}
		if big < 0 {
			for c := range row {
				row[c] = -row[c]
			}
		}
		var dot float64
		for c := range d {
			ew[i*d+c] = g * row[c]
			sw[c*k+i] = row[c] / g
			dot += row[c] * mean[c]
		}
		eb[i] = -g * dot
	}
	copy(sb, mean)
	return nil
}

// Write stores m in the group at path group of w: the attribute config
// (the Config as JSON), the attribute model_id and the parameters as
// datasets group/params/<name> (nn/checkpoint).
func (m *Model) Write(w *hdf5io.Writer, group string) error {
	if err := checkpoint.WriteGroup(w, group+"/params", m.named()); err != nil {
		return err
	}
	cfg, _ := json.Marshal(m.Config)
	if err := w.SetAttrString(group, "config", string(cfg)); err != nil {
		return err
	}
	return w.SetAttrString(group, "model_id", m.ID().String())
}

// Read reads the model stored by Write in the group at path group of f.
func Read(f *hdf5io.File, group string) (*Model, error) {
	text, err := f.AttrString(group, "config")
	if err != nil {
		return nil, fmt.Errorf("walloc: model: %w", err)
	}
	var c Config
	if err := json.Unmarshal([]byte(text), &c); err != nil {
		return nil, fmt.Errorf("walloc: model config: %w", err)
	}
	m, err := New(c, 0)
	if err != nil {
		return nil, err
	}
	if err := checkpoint.ReadGroup(f, group+"/params", m.named()); err != nil {
		return nil, fmt.Errorf("walloc: model: %w", err)
	}
	return m, nil
}

// ModelGroup is the group of a model file (the result of walloc.train) that
// holds the model.
const ModelGroup = "/model"

// Save writes m to a new HDF5 file at path, in ModelGroup.
func (m *Model) Save(path string) error {
	w, err := hdf5io.Create(path)
	if err != nil {
		return err
	}
	defer w.Abort()
	if err := m.Write(w, ModelGroup); err != nil {
		return err
	}
	return w.Close()
}

// ModelInfo describes a stored model without its parameters: its
// configuration and the id its files record.
type ModelInfo struct {
	Config
	ID ModelID
}

// ReadInfo reads the attributes config and model_id that Write stores in
// the group at path group of f, without reading the parameters: enough to
// tell whether a signal or a .wlc file fits the model. The id is as
// recorded; Read recomputes it from the parameters.
func ReadInfo(f *hdf5io.File, group string) (ModelInfo, error) {
	var i ModelInfo
	text, err := f.AttrString(group, "config")
	if err != nil {
		return i, fmt.Errorf("walloc: model: %w", err)
	}
	if err := json.Unmarshal([]byte(text), &i.Config); err != nil {
		return i, fmt.Errorf("walloc: model config: %w", err)
	}
	if err := i.Config.Validate(); err != nil {
		return i, err
	}
	id, err := f.AttrString(group, "model_id")
	if err != nil {
		return i, fmt.Errorf("walloc: model: %w", err)
	}
	if err := i.ID.UnmarshalText([]byte(id)); err != nil {
		return i, err
	}
	return i, nil
}

// Load reads the model of the HDF5 file at path (ModelGroup).
func Load(path string) (*Model, error) {
	f, err := hdf5io.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(f, ModelGroup)
}
