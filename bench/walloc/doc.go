// Package walloc measures the rate–distortion of WaLLoC (package
// codec/walloc) against classical image codecs: Go's image/jpeg and, run as
// external programs when installed, libjpeg-turbo (cjpeg/djpeg), OpenJPEG
// (opj_compress/opj_decompress) and WebP (cwebp/dwebp). The package exists
// for its benchmark only: the product never imports it, and the external
// codecs are never linked.
//
//	go test -run ^$ -bench RD -benchtime 1x -v ./bench/walloc/
//
// The benchmark logs the points and BD-PSNR values and draws the curves to
// bench/results/walloc-rd.png.
package walloc
