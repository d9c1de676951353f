package stfno

import (
	"encoding/json"
	"fmt"

	"eddy/field"
	"eddy/nn"
)

// Config is the architecture of an ST-FNO (spec §2). Its JSON names are the
// parameter names of the training job and the architecture JSON of
// checkpoints; the tags declare each parameter's meaning and range (see
// package field), which Validate enforces.
type Config struct {
	Width      int               `json:"width" min:"4" max:"512" doc:"channels C of the latent field v (the lifting adds C positional-encoding channels: x, y, t and C−3 temporal features). Cost grows as C² in the pointwise layers and the spectral mixing"`
	ModesX     int               `json:"modes_x" min:"1" max:"1024" doc:"Fourier modes kept along x by every spectral convolution: wavenumbers |k_x| < modes_x; the grid side n must satisfy 2·modes_x ≤ n"`
	ModesY     int               `json:"modes_y" min:"1" max:"1024" doc:"Fourier modes kept along y: wavenumbers |k_y| < modes_y; the grid side n must satisfy 2·modes_y ≤ n"`
	ModesT     int               `json:"modes_t" min:"1" max:"64" doc:"Fourier modes kept along time (real half spectrum, k_t < modes_t); it must not exceed ⌊T/2⌋+1 for the input length T_in, for t_latent and for the output operator's lengths"`
	Layers     int               `json:"layers" min:"1" max:"32" doc:"spectral layers, counting the one inside the lifting (the paper uses 4: the lifting's temporal resampling and 3 hidden layers)"`
	TLat       int               `json:"t_latent" min:"1" max:"1024" doc:"length T_lat of the latent trajectory: the lifting resamples the T_in input frames to T_lat time points (the paper uses 10)"`
	Expansion  int               `json:"expansion" min:"1" max:"16" doc:"channel expansion of the two-layer pointwise MLP after each spectral convolution (C → expansion·C → C); the paper uses 4"`
	Activation nn.ActivationKind `json:"activation" enum:"relu|gelu|gelu_tanh|silu|identity" doc:"element-wise nonlinearity σ: gelu (exact, x·Φ(x)), gelu_tanh (its tanh approximation, faster), relu, silu or identity"`
	Beta       float64           `json:"beta" min:"-10" max:"10" doc:"exponent β of the temporal positional features e^{βt}·{sin, cos}(π(j+1)t), t ∈ (0, 1]: 1e-2 for forced flows, −1e-2 for decaying ones"`
	Delta      float64           `json:"delta" gt:"0" max:"100" doc:"scale δ of the per-mode bias of the output spectral operator (the paper uses 0.1; the Spectral-Refiner sets it to 1)"`
}

// DefaultConfig returns the "fno-mini" network of spec §6 C: width 8, modes
// (8, 8, 4), 4 spectral layers, T_lat = 10, expansion 4, exact GELU,
// β = 1e-2, δ = 0.1.
func DefaultConfig() Config {
	return Config{Width: 8, ModesX: 8, ModesY: 8, ModesT: 4, Layers: 4, TLat: 10, Expansion: 4,
		Activation: nn.ActGELU, Beta: 1e-2, Delta: 0.1}
}

// Validate checks c against its declared ranges and the modes against the
// latent length, and returns nil or field.Errors naming each invalid
// parameter by its JSON Pointer.
func (c Config) Validate() error {
	errs := field.Check(c)
	if len(errs) > 0 {
		return errs
	}
	if c.ModesT > c.TLat/2+1 {
		errs.Add("/modes_t", "must be at most ⌊t_latent/2⌋+1 = %d, got %d", c.TLat/2+1, c.ModesT)
	}
	return errs.Err()
}

// checkGrid returns an error unless the model can map tIn frames of n×n to
// tOut frames.
func (c Config) checkGrid(n, tIn, tOut int) error {
	switch {
	case 2*c.ModesX > n || 2*c.ModesY > n:
		return fmt.Errorf("stfno: grid %d×%d too small for modes (%d, %d): need 2·modes ≤ n", n, n, c.ModesX, c.ModesY)
	case tIn < 2:
		return fmt.Errorf("stfno: %d input frames, want at least 2", tIn)
	case c.ModesT > tIn/2+1:
		return fmt.Errorf("stfno: %d input frames keep at most %d temporal modes, modes_t is %d", tIn, tIn/2+1, c.ModesT)
	case tOut < 1:
		return fmt.Errorf("stfno: %d output frames, want at least 1", tOut)
	}
	return nil
}

// parseConfig decodes an architecture JSON and validates it.
func parseConfig(data []byte) (Config, error) {
	var c Config
	if err := json.Unmarshal(data, &c); err != nil {
		return c, fmt.Errorf("stfno: architecture: %w", err)
	}
	if err := c.Validate(); err != nil {
		return c, fmt.Errorf("stfno: architecture: %w", err)
	}
	return c, nil
}
