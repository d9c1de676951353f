// Package walloc is the WaLLoC codec (Jacobellis & Yadwadkar, "Learned
// Compression for Compressed Learning", DCC 2025; specs/walloc.md): a
// wavelet packet transform, a linear encoder, companding and 8-bit
// quantisation, entropy coding into a .wlc file, and a learned decoder.
//
// # The codec
//
// An image is scaled to x = v/255 − ½ (spec §1.1), reflect-padded to
// multiples of 2^J (centred) and transformed by the J-level bior4.4 packet
// transform of package codec/wavelet: for RGB and J = 3, D = 192 channels at
// H/8 × W/8. Stereo audio (samples v ∈ [−1, 1) ↦ v/2) takes the 1-D
// transform: for J = 8, D = 512 channels at L/256. At every position of that
// latent grid the Model's encoder maps the D-vector x to K latents
// z = W x + b (a 1×1 convolution), the compander of spec §1.4 maps them to
// y = 2M(Φ(z/s) − ½) and rounds them to integers in [−127, 127]
// (compand.go). The decoder maps ẑ = s Φ⁻¹(y/2M + ½) back to D channels by a
// linear path plus a residual CNN on the latent grid, and the inverse
// transform, the crop of the padding and a clamp to [−½, ½] give the signal
// (model.go, codec.go). Encode and Decode code images as the standard
// library's codecs do; EncodeAudio and DecodeAudio code wav.Audio.
//
// A model is initialised by PCA (InitPCA: encoder g·P(x − μ), linear
// decoder Pᵀẑ/g + μ, the CNN's output zero; spec §5 "linear WaLLoC") and
// trained by Trainer (train.go): AdamW on random crops with additive
// uniform noise in place of rounding, mean squared error, and validation-
// based selection that keeps the PCA start unless a trained state validates
// better. Models are stored in HDF5 (Model.Write, Save, Load); a model's ID,
// a hash of its configuration and parameters, is recorded in every file it
// writes, and decoding with another model is refused (ErrModel).
//
// The rest of this comment is the file format, which does not depend on the
// model.
//
// A WaLLoC encoder turns an image (or audio) into K latent channels of int8
// values in [−128, 127] (the rounded companded latents of spec §1.4), of
// shape (K, h, w) with h = H/2^J and w = W/2^J for an image and (K, l) with
// l = L/2^J for audio, row-major. WriteLatents stores them with a Header
// that says what they code and how; ReadLatents reads them back bit for bit.
//
// # File layout (version 1)
//
// Integers are little-endian and unsigned.
//
//	offset  size  field
//	     0     4  magic: 0x89 'W' 'L' 'C'
//	     4     1  version: 1
//	     5     1  signal: 1 = image, 2 = audio
//	     6     1  coding: 1 = tiled PNG, 2 = context-adaptive range coder
//	     7     1  J, wavelet packet levels, 1…12
//	     8     2  K, latent channels, 1…4096
//	    10     1  border: latent samples the encoder adds along each axis, 0…16
//	    11     1  reserved: 0
//	    12     4  image: height H, 1…65536; audio: samples per channel L, 1…2^30
//	    16     4  image: width W, 1…65536; audio: 0
//	    20     2  image: colour planes; audio: channels; 1…1024
//	    22     2  image: rows of padding above; audio: samples before
//	    24     2  image: rows of padding below; audio: samples after
//	    26     2  image: columns of padding on the left; audio: 0
//	    28     2  image: columns of padding on the right; audio: 0
//	    30    16  model id: the first 16 bytes of the SHA-256 of the model
//	              file (all zero: no model named)
//	    46     4  P, payload length in bytes
//	    50     P  payload: the latents, coded as the coding byte says
//	  50+P     4  CRC-32C (Castagnoli) of bytes 0 … 50+P−1
//
// The padded sizes H+top+bottom, W+left+right (L+before+after) must be
// multiples of 2^J; the latents then have shape (K, h, w) with
// h = (H+top+bottom)/2^J + border, w = (W+left+right)/2^J + border, or
// (K, l) with l = (L+before+after)/2^J + border, and K·h·w ≤ MaxLatents.
// The padding is what the model's encoder applied before the wavelet packet
// transform (the reference pads by reflection and crops the centre back,
// spec §1.2), so that a decoder can undo it. A file is exactly 54 + P bytes;
// its rate is BitsPerPixel(54 + P, header) (spec §1.7: 8·bytes/(H·W) for an
// image, bits per sample over all channels for audio).
//
// # Codings
//
// Coding 1, tiled PNG, is the paper's route (spec §1.7): ŷ + 128 as uint8,
// the K channels tiled into one 8-bit grayscale image (channel i·n + j at
// tile row i, tile column j, n = ⌈√K⌉, channels K…n²−1 zero), stored
// losslessly. The paper used lossless WebP, for which the standard library
// has no encoder; this is the grayscale PNG variant of the reference
// documentation, written with image/png. See pngtile.go.
//
// Coding 2 goes beyond the paper: a binary adaptive range coder
// (rangecoder.go) with a context model over the int8 latents
// (context.go). Each value is binarised into a zero flag, a sign, an
// Exp-Golomb-like magnitude class in unary and the mantissa bits, each
// decision with an adaptive probability chosen by the magnitudes of already
// coded neighbours (left, up, up-left, up-right; for audio the three
// previous samples), the magnitude at the same position in the previous
// channel and the signs of the left and upper neighbours. On companded,
// Laplacian-like latents it takes 10–35 % fewer bytes than the tiled PNG.
//
// # Hostile input
//
// ReadLatents never panics. Malformed, truncated and corrupted files give a
// *FormatError with the offset of the problem; a header claiming sizes
// beyond the limits, or a latent count that its payload length cannot hold
// (a range-coded byte holds at most 5700 latents, a deflated byte at most
// 1032 pixels), is refused before anything is allocated for it, the
// payload is read as it arrives, and its checksum is verified before it is
// decoded.
package walloc
