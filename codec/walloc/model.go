package walloc

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"

	"eddy/nn"
)

// Config is the architecture of a WaLLoC model (spec §1): the wavelet packet
// levels J, the latent channels K, the width of the decoder's residual CNN
// and the encoder gain of the PCA initialisation. Its JSON names are the API
// of the walloc.train kind.
type Config struct {
	Signal         Signal `json:"signal" enum:"image|audio" doc:"kind of signal: image (RGB, 2-D wavelet packets) or audio (stereo, 1-D wavelet packets)"`
	Levels         int    `json:"levels" min:"1" max:"10" doc:"wavelet packet levels J: an image has 3·4^J channels at H/2^J × W/2^J, stereo audio 2·2^J channels at L/2^J"`
	LatentChannels int    `json:"latent_channels" min:"1" max:"4096" doc:"latent channels K; the dimension reduction is (wavelet packet channels)/K, e.g. 192/12 = 16× for an image at J = 3"`
	// DecoderChannels is the width C of the residual CNN of the decoder; 0
	// leaves the decoder linear.
	DecoderChannels int `json:"decoder_channels" min:"0" max:"256" doc:"width of the decoder's residual CNN on the latent grid (0: a linear decoder only)"`
	// Blocks is the number of residual blocks of the CNN.
	Blocks int `json:"blocks" min:"0" max:"16" doc:"residual blocks of the decoder's CNN (each conv3 → SiLU → conv3 plus identity)"`
	// Gain g scales the unit-norm PCA rows of the encoder: the quantiser
	// step is about 1/(1.48 g) in coefficient units (spec §6 B).
	Gain float64 `json:"gain" gt:"0" max:"1000" doc:"encoder gain of the PCA initialisation: latents are g times the PCA coefficients, so the quantisation step is about 1/(1.48·g) in wavelet coefficient units"`
	// SampleRate is the audio sample rate the model codes, in Hz (audio only).
	SampleRate int `json:"sample_rate,omitempty" min:"0" max:"1000000" doc:"sample rate of the audio the model codes, in Hz (audio only)"`
}

// ImageConfig returns the image configuration of the released codecs (RGB,
// J = 3, 192 wavelet packet channels) with k latent channels: k = 12 is
// WaLLoC 16×, k = 48 WaLLoC 4×. The decoder CNN is 32 wide with 2 blocks.
func ImageConfig(k int) Config {
	return Config{Signal: Image, Levels: 3, LatentChannels: k, DecoderChannels: 32, Blocks: 2, Gain: 20}
}

// AudioConfig returns the stereo audio configuration (J = 8, 512 channels at
// L/256, 44.1 kHz) with k latent channels: 108 is WaLLoC 5×, 27 WaLLoC 20×.
func AudioConfig(k int) Config {
	return Config{Signal: Audio, Levels: 8, LatentChannels: k, DecoderChannels: 32, Blocks: 2, Gain: 20, SampleRate: 44100}
}

// Planes returns the input channels: 3 colour planes or 2 audio channels.
func (c Config) Planes() int {
	if c.Signal == Audio {
		return 2
	}
	return 3
}

// PacketChannels returns D, the wavelet packet channels: 3·4^J for an image,
// 2·2^J for stereo audio.
func (c Config) PacketChannels() int {
	if c.Signal == Audio {
		return 2 << c.Levels
	}
	return 3 << (2 * c.Levels)
}

// Block returns 2^J, the side of the input block of one latent vector.
func (c Config) Block() int { return 1 << c.Levels }

// Validate checks the configuration.
func (c Config) Validate() error {
	switch {
	case c.Signal != Image && c.Signal != Audio:
		return fmt.Errorf("walloc: signal %q: want image or audio", c.Signal)
	case c.Levels < 1 || c.Levels > 10 || (c.Signal == Image && c.Levels > 5):
		return fmt.Errorf("walloc: levels = %d outside [1, 5] (image) or [1, 10] (audio)", c.Levels)
	case c.LatentChannels < 1 || c.LatentChannels > c.PacketChannels():
		return fmt.Errorf("walloc: latent_channels = %d outside [1, %d] (the wavelet packet channels)", c.LatentChannels, c.PacketChannels())
	case c.DecoderChannels < 0 || c.DecoderChannels > 256 || c.Blocks < 0 || c.Blocks > 16:
		return fmt.Errorf("walloc: decoder_channels = %d, blocks = %d outside [0, 256], [0, 16]", c.DecoderChannels, c.Blocks)
	case !(c.Gain > 0) || c.Gain > 1000:
		return fmt.Errorf("walloc: gain = %v outside (0, 1000]", c.Gain)
	case c.Signal == Audio && c.SampleRate <= 0:
		return fmt.Errorf("walloc: an audio model needs a sample rate, got %d", c.SampleRate)
	}
	return nil
}

// Model is a WaLLoC codec (spec §1): the 1×1 encoder z = W_e x + b_e from the
// D wavelet packet channels x at each position of the latent grid to K
// latents, companding and 8-bit quantisation (compand.go), and the decoder
//
//	x̂ = W_s ẑ + b_s + CNN(ẑ),
//
// a linear skip (1×1, K → D) plus a residual CNN on the latent grid (1×1
// K → C, SiLU, Blocks residual blocks conv3×3 → SiLU → conv3×3, 1×1 C → D,
// the last initialised to zero so that a new decoder is its linear path),
// followed by the inverse wavelet packet transform and a clamp to
// [−½, ½]. The grid is 2-D (h, w) for an image and 1-D (l) for audio.
//
// Encoder and Decoder are nn layers (float64) used by training; encoding
// and decoding a signal (codec.go) read the encoder's weights as float32.
// A Model is not safe for concurrent use.
type Model struct {
	Config
	Encoder *nn.Conv // 1×1, D → K
	Skip    *nn.Conv // 1×1, K → D
	CNN     nn.Layer // nil when DecoderChannels = 0
	Decoder nn.Layer // Skip + CNN
}

// New returns a model of configuration c with weights drawn from seed (the
// CNN's last layer zero). Initialise it with InitPCA before use.
func New(c Config, seed uint64) (*Model, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	r := rand.New(rand.NewPCG(seed, 0x5741_4c4c_6f43))
	dims, d, k := 2, c.PacketChannels(), c.LatentChannels
	if c.Signal == Audio {
		dims = 1
	}
	m := &Model{Config: c}
	m.Encoder = nn.NewConv(dims, d, k, 1, true, r)
	m.Skip = nn.NewConv(dims, k, d, 1, true, r)
	m.Decoder = m.Skip
	if w := c.DecoderChannels; w > 0 {
		layers := []nn.Layer{nn.NewConv(dims, k, w, 1, true, r), nn.NewActivation(nn.ActSiLU)}
		for range c.Blocks {
			layers = append(layers, nn.NewResidual(nn.NewSequential(
				nn.NewConv(dims, w, w, 3, true, r), nn.NewActivation(nn.ActSiLU),
				nn.NewConv(dims, w, w, 3, true, r))))
		}
		last := nn.NewConv(dims, w, d, 1, true, r)
		last.W.Value.Zero()
		last.B.Value.Zero()
		layers = append(layers, last)
		m.CNN = nn.NewSequential(layers...)
		m.Decoder = nn.NewSum(m.Skip, m.CNN)
	}
	return m, nil
}

// EncoderParams returns the encoder's parameters.
func (m *Model) EncoderParams() []*nn.Param { return m.Encoder.Params() }

// DecoderParams returns the decoder's parameters (skip and CNN).
func (m *Model) DecoderParams() []*nn.Param { return m.Decoder.Params() }

// Params returns every parameter, encoder first, with unique names
// ("encoder.weight", "decoder.0.weight", …).
func (m *Model) Params() []*nn.Param {
	return append(m.EncoderParams(), m.DecoderParams()...)
}

// paramNames returns the names the model file stores the parameters under.
func (m *Model) named() []*nn.Param {
	var out []*nn.Param
	for _, p := range m.EncoderParams() {
		out = append(out, &nn.Param{Name: "encoder." + p.Name, Value: p.Value, Grad: p.Grad})
	}
	for _, p := range m.DecoderParams() {
		out = append(out, &nn.Param{Name: "decoder." + p.Name, Value: p.Value, Grad: p.Grad})
	}
	return out
}

// ID returns the model id that .wlc files record (header field model): the
// first 16 bytes of the SHA-256 of the configuration's JSON followed by
// every parameter's name, shape and float64 values (little-endian), so that
// two models decode alike exactly when their ids agree, whatever file they
// were stored in.
func (m *Model) ID() ModelID {
	h := sha256.New()
	cfg, _ := json.Marshal(m.Config)
	h.Write(cfg)
	var b [8]byte
	for _, p := range m.named() {
		h.Write([]byte(p.Name))
		for _, s := range p.Value.Shape {
			binary.LittleEndian.PutUint64(b[:], uint64(s))
			h.Write(b[:])
		}
		for _, v := range p.Value.Data {
			binary.LittleEndian.PutUint64(b[:], math.Float64bits(v))
			h.Write(b[:])
		}
	}
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return ModelIDFromSHA256(sum)
}

// forwardLatents runs encoder, companding (noise from r in training, rounding
// when r is nil) and decoder on a batch of wavelet packet channels x of shape
// (N, D, grid…), returning x̂ of the same shape.
func (m *Model) forward(x *nn.Tensor, c *Compander) *nn.Tensor {
	z := m.Encoder.Forward(x)
	zh := c.Forward(z)
	return m.Decoder.Forward(zh)
}

// backward propagates ∂L/∂x̂ through decoder, compander and encoder,
// accumulating parameter gradients.
func (m *Model) backward(dy *nn.Tensor, c *Compander) {
	dz := m.Decoder.Backward(dy)
	dz = c.Backward(dz)
	m.Encoder.Backward(dz)
}
