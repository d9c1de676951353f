package dcdm

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"path"

	"eddy/hdf5io"
	"eddy/nn"
	"eddy/nn/checkpoint"
)

// Config is the architecture of the network. Its JSON names are those of
// the model's params_json attribute.
type Config struct {
	// Dim is the number of spatial axes, 2 or 3 (kernels 3×3 or 3×3×3).
	Dim int `json:"dim"`
	// Width is the number of channels of every hidden convolution (16 in
	// the authors' models).
	Width int `json:"width"`
	// PreBlocks is the number of residual blocks at full resolution before
	// the pooling (1 in the N = 64 model, 2 in the N = 128 one).
	PreBlocks int `json:"pre_blocks"`
	// CoarseBlocks is the number of residual blocks on each pooled level
	// (3 and 5).
	CoarseBlocks int `json:"coarse_blocks"`
	// PostBlocks is the number of residual blocks at full resolution after
	// the upsampling (2 and 3).
	PostBlocks int `json:"post_blocks"`
	// Levels is the number of nested pool/upsample levels (1 in the
	// authors' models); grid sides must be divisible by 2^Levels.
	Levels int `json:"levels"`
	// NoBias drops the convolutions' biases, which makes the network
	// positively homogeneous, f(c·r) = c·f(r) for c > 0, so that its
	// directions do not depend on the residual's per-cell amplitude, which
	// shrinks as the grid grows.
	NoBias bool `json:"no_bias,omitempty"`
}

// DefaultConfig returns the layout of the authors' N = 64 model in dim
// spatial axes.
func DefaultConfig(dim int) Config {
	return Config{Dim: dim, Width: 16, PreBlocks: 1, CoarseBlocks: 3, PostBlocks: 2, Levels: 1}
}

// Validate returns an error if the architecture cannot be built.
func (c Config) Validate() error {
	switch {
	case c.Dim != 2 && c.Dim != 3:
		return fmt.Errorf("dcdm: dim %d, want 2 or 3", c.Dim)
	case c.Width < 1 || c.Width > 256:
		return fmt.Errorf("dcdm: width %d, want 1–256", c.Width)
	case c.PreBlocks < 0 || c.CoarseBlocks < 0 || c.PostBlocks < 0 || c.PreBlocks+c.CoarseBlocks+c.PostBlocks > 64:
		return fmt.Errorf("dcdm: residual blocks %d/%d/%d, want non-negative and at most 64 in all", c.PreBlocks, c.CoarseBlocks, c.PostBlocks)
	case c.Levels < 0 || c.Levels > 8:
		return fmt.Errorf("dcdm: levels %d, want 0–8", c.Levels)
	}
	return nil
}

// Model is the network f of spec §2.1. Forward maps a batch of residual
// images N×1×(grid) to search directions of the same shape. A Model keeps
// work buffers and is not safe for concurrent use.
type Model struct {
	Config Config
	net    *nn.Sequential
}

// New returns the network of c with weights initialised from seed.
func New(c Config, seed uint64) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, 0xdcd3))
	return &Model{Config: c, net: build(c, r)}, nil
}

// build assembles the layers:
//
//	x0 = conv(1→w, linear); a = relu(conv(x0)); PreBlocks × RB; b = relu(conv(a))
//	u  = b + up(coarse(pool(b)));  PostBlocks × RB;  y = conv1×1(w→1, linear)
//
// where coarse is CoarseBlocks × RB, followed on all but the last level by
// the same skip structure one level down.
func build(c Config, r *rand.Rand) *nn.Sequential {
	d, w := c.Dim, c.Width
	conv := func(in, out, k int) *nn.Conv { return nn.NewConv(d, in, out, k, !c.NoBias, r) }
	relu := func(in, out int) nn.Layer {
		return nn.NewSequential(conv(in, out, 3), nn.NewActivation(nn.ActReLU))
	}
	block := func() nn.Layer { return nn.NewResidual(nn.NewSequential(relu(w, w), relu(w, w))) }
	var layers []nn.Layer
	layers = append(layers, conv(1, w, 3), relu(w, w))
	for range c.PreBlocks {
		layers = append(layers, block())
	}
	layers = append(layers, relu(w, w))
	var coarse func(level int) nn.Layer
	coarse = func(level int) nn.Layer {
		ls := []nn.Layer{nn.NewAvgPool(d, 2)}
		for range c.CoarseBlocks {
			ls = append(ls, block())
		}
		if level < c.Levels {
			ls = append(ls, nn.NewResidual(coarse(level+1)))
		}
		ls = append(ls, nn.NewUpsample(d, 2, nn.UpsampleNearest))
		return nn.NewSequential(ls...)
	}
	if c.Levels > 0 {
		layers = append(layers, nn.NewResidual(coarse(1)))
	}
	for range c.PostBlocks {
		layers = append(layers, block())
	}
	layers = append(layers, conv(w, 1, 1))
	return nn.NewSequential(layers...)
}

// Forward applies the network to x (N×1×grid) and returns the output,
// owned by the model until the next Forward.
func (m *Model) Forward(x *nn.Tensor) *nn.Tensor { return m.net.Forward(x) }

// Backward back-propagates ∂L/∂y of the last Forward (see nn.Layer).
func (m *Model) Backward(dy *nn.Tensor) *nn.Tensor { return m.net.Backward(dy) }

// Params returns the trainable parameters.
func (m *Model) Params() []*nn.Param { return m.net.Params() }

// Multiple returns the number every grid side must be a multiple of, 2^Levels.
func (m *Model) Multiple() int { return 1 << m.Config.Levels }

// FLOPs returns the multiply-adds ×2 of one inference on a grid of cells
// cells: 2·k^d·In·Out per cell and convolution, a pooled level counting
// 2^−d as much per level.
func (m *Model) FLOPs(cells int) float64 {
	c := m.Config
	k := 9.0
	if c.Dim == 3 {
		k = 27
	}
	w := float64(c.Width)
	full := 2*k*w + float64(2+2*c.PreBlocks+2*c.PostBlocks)*2*k*w*w + 2*w
	coarse := 0.0
	shrink := 1.0
	for range c.Levels {
		shrink /= float64(int(1) << c.Dim)
		coarse += shrink * float64(2*c.CoarseBlocks) * 2 * k * w * w
	}
	return float64(cells) * (full + coarse)
}

// ArchAttr is the attribute of a model's group that holds its Config as
// JSON.
const ArchAttr = "params_json"

// Write stores m in the HDF5 group at path group ("/model"): the attribute
// params_json with the Config and the parameters as float64 datasets
// <group>/params/<name> (package nn/checkpoint).
func (m *Model) Write(w *hdf5io.Writer, group string) error {
	group = path.Clean("/" + group)
	arch, err := json.Marshal(m.Config)
	if err != nil {
		return fmt.Errorf("dcdm: %w", err)
	}
	if err := w.CreateGroup(group); err != nil {
		return fmt.Errorf("dcdm: %w", err)
	}
	if err := w.SetAttrString(group, ArchAttr, string(arch)); err != nil {
		return fmt.Errorf("dcdm: %w", err)
	}
	if err := checkpoint.WriteGroup(w, path.Join(group, "params"), m.Params()); err != nil {
		return fmt.Errorf("dcdm: %w", err)
	}
	return nil
}

// Read builds the model that Write stored in the group at path group.
func Read(f *hdf5io.File, group string) (*Model, error) {
	group = path.Clean("/" + group)
	arch, err := f.AttrString(group, ArchAttr)
	if err != nil {
		return nil, fmt.Errorf("dcdm: %w", err)
	}
	var c Config
	if err := json.Unmarshal([]byte(arch), &c); err != nil {
		return nil, fmt.Errorf("dcdm: architecture: %w", err)
	}
	m, err := New(c, 0)
	if err != nil {
		return nil, err
	}
	if err := checkpoint.ReadGroup(f, path.Join(group, "params"), m.Params()); err != nil {
		return nil, fmt.Errorf("dcdm: %w", err)
	}
	return m, nil
}
