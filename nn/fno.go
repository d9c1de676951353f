package nn

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
)

// FNOConfig describes a Fourier neural operator in the layout of Li et al.
// (ICLR 2021): a pointwise lifting In → Width, Layers Fourier layers
// v ← σ(K v + W v) (K a SpectralConv keeping Modes, W a pointwise Dense with
// bias; no σ after the last layer), and a projection Width → ProjWidth → Out
// with σ in between. It is the architecture JSON of FNO checkpoints.
//
// Inputs have shape N×In×n₁×…×n_d with d = len(Modes); grid coordinates,
// if wanted, are input channels supplied by the caller.
type FNOConfig struct {
	In         int            `json:"in_channels"`
	Out        int            `json:"out_channels"`
	Width      int            `json:"width"`
	Modes      []int          `json:"modes"`
	Layers     int            `json:"layers"`
	ProjWidth  int            `json:"proj_width"`
	Activation ActivationKind `json:"activation"`
}

// Validate reports the first inconsistency in c, as an error for users.
func (c FNOConfig) Validate() error {
	switch {
	case c.In < 1 || c.Out < 1 || c.Width < 1 || c.ProjWidth < 1:
		return fmt.Errorf("nn: FNO: channels in=%d out=%d width=%d proj_width=%d must be positive", c.In, c.Out, c.Width, c.ProjWidth)
	case len(c.Modes) < 1 || len(c.Modes) > 3:
		return fmt.Errorf("nn: FNO: %d mode counts given, want 1 to 3 (one per spatial axis)", len(c.Modes))
	case c.Layers < 1:
		return fmt.Errorf("nn: FNO: %d layers, want at least 1", c.Layers)
	}
	for _, m := range c.Modes {
		if m < 1 {
			return fmt.Errorf("nn: FNO: modes %v must be positive", c.Modes)
		}
	}
	if _, err := ParseActivation(string(c.Activation)); err != nil {
		return err
	}
	return nil
}

// NewFNO builds the operator described by c with weights drawn from r, as
// a Sequential: the lifting ("0.weight", "0.bias"), then each Fourier layer
// as a Sum whose spectral and pointwise parts are named "k.0.*" and "k.1.*"
// (k its position in the sequence, activations included), then the
// projection. Cost per sample and layer: see SpectralConv and Dense.
func NewFNO(c FNOConfig, r *rand.Rand) (*Sequential, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	layers := []Layer{NewDense(c.In, c.Width, true, r)}
	for i := 0; i < c.Layers; i++ {
		layers = append(layers, NewSum(
			NewSpectralConv(c.Width, c.Width, c.Modes, false, r),
			NewDense(c.Width, c.Width, true, r),
		))
		if i < c.Layers-1 {
			layers = append(layers, NewActivation(c.Activation))
		}
	}
	layers = append(layers,
		NewDense(c.Width, c.ProjWidth, true, r),
		NewActivation(c.Activation),
		NewDense(c.ProjWidth, c.Out, true, r),
	)
	return NewSequential(layers...), nil
}

// ParseFNOConfig decodes an architecture JSON and validates it.
func ParseFNOConfig(data []byte) (FNOConfig, error) {
	var c FNOConfig
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("nn: FNO architecture: %w", err)
	}
	return c, c.Validate()
}
