// Package wavelet computes the bior4.4 (CDF 9/7) wavelet packet transform with
// periodic boundary in one and two dimensions: the first stage of the WaLLoC
// codec (specs/walloc.md §1.2) and its last stage in reverse.
//
// # Filters and normalisation
//
// One level splits a signal x of even length N into a lowpass half a and a
// highpass half d of N/2 samples each, by periodic convolution and
// downsampling with the bior4.4 analysis filters of PyWavelets,
//
//	a[i] = Σ_j h[j] x[(2i + 5 − j) mod N],   d[i] = Σ_j g[j] x[(2i + 5 − j) mod N],
//
// with the 10-tap arrays h = dec_lo, g = dec_hi of pywt.Wavelet("bior4.4") and
// the offset F/2 = 5 of PyWavelets' "periodization" mode (pytorch_wavelets'
// mode "periodization" computes the same). Both filters are symmetric: a[i] is
// the 9-tap lowpass centred on x[2i] and d[i] the 7-tap highpass centred on
// x[2i+1],
//
//	a[i] = 0.8527 x[2i] + 0.3774 (x[2i±1]) − 0.1106 (x[2i±2]) − 0.0238 (x[2i±3]) + 0.0378 (x[2i±4]),
//	d[i] = −0.7885 x[2i+1] + 0.4181 (x[2i+1±1]) + 0.0407 (x[2i+1±2]) − 0.0645 (x[2i+1±3]),
//
// where (x[k±j]) stands for x[k−j] + x[k+j]. The lowpass sums to √2 and the
// highpass to 0, so a constant c gives a = √2·c and d = 0 in 1-D and 2c in the
// LL band of a 2-D level; the transform is biorthogonal, not orthogonal (it
// does not preserve energy exactly). The taps are those of the exact CDF 9/7
// pair (the JPEG 2000 irreversible filters) in this normalisation; the printed
// PyWavelets table differs from them by up to 6e-13 per tap.
//
// The transform is computed by the lifting factorisation of CDF 9/7 (four
// lifting steps and a scaling, see lifting.go) on the even and odd samples with
// periodic indices, which equals the convolution above up to rounding at 6
// multiplications and 8 additions per pair of samples instead of 16 and 14.
// The inverse runs the steps backwards and reconstructs x up to rounding:
// about 3e-15 of max |x| in float64 and 1.3e-6 in float32 for J ≤ 5.
//
// # Packet tree and channel order
//
// Every level splits every channel, not only the lowpass one (a full packet
// tree, not Mallat's dyadic tree). In 2-D a level filters along x (the width,
// the contiguous axis) and along y (the height) and turns channel c into the
// four channels 4c + f with f = LL, LH, HL, HH = 0, 1, 2, 3, the first letter
// naming the filter along x and the second along y — the order of
// pytorch_wavelets' DWTForward (LL, then its detail bands 0, 1, 2) and of
// PyWavelets' dwt2 (cA, cH, cV, cD). After J levels the channels are flattened
// channel-major, as the reference code does with einops
// "b c f h w -> b (c f) h w" at every level:
//
//	index = c·4^J + f₁·4^(J−1) + … + f_J,
//
// where c is the image channel and f_l the subband taken at level l (f₁ the
// most significant). An image of C channels, a row-major (C, H, W) array,
// becomes a row-major (C·4^J, H/2^J, W/2^J) array: for RGB and J = 3, 192
// channels of H/8 × W/8. In 1-D a level turns channel c into 2c + f with
// f = Low, High = 0, 1, and a (C, L) array becomes (C·2^J, L/2^J): for stereo
// and J = 8, 512 channels of L/256. The channels of one input channel occupy
// exactly the memory of that input channel, so each level transforms a
// region into itself (in 2-D, into the other of two buffers).
//
// Sizes: every level halves the length, so H and W (or L) must be multiples
// of 2^J; the codec pads the image beforehand (by reflection, spec §1.2).
// Input scaling (uint8 v → v/255 − 0.5, spec §1.1) belongs to the codec: the
// transform is linear and takes any values.
//
// # Cost and memory
//
// Each level costs 6 multiplications and 8 additions per value in 2-D (3 and
// 4 in 1-D), whatever the level, so J levels cost J times one level: for a
// 512×512 RGB image and J = 3, 14M multiplications and 19M additions (direct
// convolution by the 9- and 7-tap filters: 38M multiply-adds). Columns are
// lifted first, on whole rows at a time with a handful of rows live at once
// (the periodic wrap reads the first and last rows again instead of
// copying), and each finished row is then lifted along x; levels run depth
// first so that lower levels stay in cache. Level l of an image goes to dst
// or to the plan's work buffer alternately so that level J ends in dst.
//
// On amd64 with AVX2 and FMA every lifting step is one vector kernel
// k·(x + c·(a + b)) over a row, rows being split into even and odd halves
// first (the neighbour i+1 is then the same half shifted by one); elsewhere,
// or with the build tag purego, portable Go code runs the steps, along x in a
// single pass pipelined in registers. The two differ by rounding only (the
// kernels use fused multiply-adds). Plans hold their work buffers; calls
// allocate nothing.
//
// Plans are generic over float32 (what the codec runs, as the reference code
// does) and float64 (used by the tests to check the mathematics tightly).
package wavelet
