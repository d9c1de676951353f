//go:build !purego

#include "textflag.h"

// Complex values are (re, im) pairs of float64; a Y register holds two.
// CMUL multiplies the pair of complex values in t by the broadcast twiddle
// (wr, wi): out = t·wr ∓ swap(t)·wi (FMADDSUB: even lanes subtract, odd add).
#define CMUL(t, wr, wi, out) \
	VPERMILPD $5, t, out; \
	VMULPD wi, out, out; \
	VFMADDSUB231PD wr, t, out

// func radix4AVX(y, x, tw *complex128, m, s, xp, xj, yp, yk, ts int, mask *[4]float64)
//
// A radix-4 Stockham stage with general strides (in complex elements), for
// even s: for p < m, q < s, with a_j = x[p·xp + j·xj + q],
//   t0 = a0+a2, t1 = a0−a2, t2 = a1+a3, t3 = a1−a3, u = swap(t3) xor mask
//   (−i·t3 forward, +i·t3 inverse),
//   y[p·yp + q] = t0+t2,              y[p·yp + yk + q] = (t1+u)·w1,
//   y[p·yp + 2yk + q] = (t0−t2)·w2,   y[p·yp + 3yk + q] = (t1−u)·w3,
// with (w1, w2, w3) = tw[p·ts : p·ts+3]. The plain stage has xp = s,
// xj = m·s, yp = 4s, yk = s, ts = 3.
TEXT ·radix4AVX(SB), NOSPLIT, $0-88
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ tw+16(FP), R8
	MOVQ m+24(FP), R9
	MOVQ s+32(FP), R10
	MOVQ xp+40(FP), AX
	SHLQ $4, AX
	MOVQ xj+48(FP), R12
	SHLQ $4, R12
	MOVQ yp+56(FP), DX
	SHLQ $4, DX
	MOVQ yk+64(FP), R11
	SHLQ $4, R11
	MOVQ mask+80(FP), BX
	VMOVUPD (BX), Y15
	LEAQ (R12)(R12*2), R13 // 3·xj
	LEAQ (R11)(R11*2), R14 // 3·yk
	SHRQ $1, R10           // pairs per inner loop
	TESTQ R9, R9
	JLE done4

ploop4:
	VBROADCASTSD 0(R8), Y9
	VBROADCASTSD 8(R8), Y10
	VBROADCASTSD 16(R8), Y11
	VBROADCASTSD 24(R8), Y12
	VBROADCASTSD 32(R8), Y13
	VBROADCASTSD 40(R8), Y14
	MOVQ SI, BX
	MOVQ DI, R15
	MOVQ R10, CX

qloop4:
	VMOVUPD (BX), Y0
	VMOVUPD (BX)(R12*1), Y1
	VMOVUPD (BX)(R12*2), Y2
	VMOVUPD (BX)(R13*1), Y3
	VADDPD Y2, Y0, Y4      // t0
	VSUBPD Y2, Y0, Y5      // t1
	VADDPD Y3, Y1, Y6      // t2
	VSUBPD Y3, Y1, Y7      // t3
	VPERMILPD $5, Y7, Y7
	VXORPD Y15, Y7, Y7     // u = ∓i·t3
	VADDPD Y6, Y4, Y0      // t0 + t2
	VSUBPD Y6, Y4, Y2      // t0 − t2
	VADDPD Y7, Y5, Y1      // t1 + u
	VSUBPD Y7, Y5, Y3      // t1 − u
	VMOVUPD Y0, (R15)
	CMUL(Y1, Y9, Y10, Y6)
	VMOVUPD Y6, (R15)(R11*1)
	CMUL(Y2, Y11, Y12, Y6)
	VMOVUPD Y6, (R15)(R11*2)
	CMUL(Y3, Y13, Y14, Y6)
	VMOVUPD Y6, (R15)(R14*1)
	ADDQ $32, BX
	ADDQ $32, R15
	DECQ CX
	JNZ qloop4

	ADDQ AX, SI            // x += xp
	ADDQ DX, DI            // y += yp
	MOVQ ts+72(FP), BX
	SHLQ $4, BX
	ADDQ BX, R8            // tw += ts
	DECQ R9
	JNZ ploop4

done4:
	VZEROUPPER
	RET

// func radix2AVX(y, x, tw *complex128, m, s, xp, xj, yp, yk, ts int)
//
// A radix-2 Stockham stage with general strides, for even s: for p < m,
// q < s, a = x[p·xp + q], b = x[p·xp + xj + q],
// y[p·yp + q] = a + b, y[p·yp + yk + q] = (a − b)·tw[p·ts].
TEXT ·radix2AVX(SB), NOSPLIT, $0-80
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ tw+16(FP), R8
	MOVQ m+24(FP), R9
	MOVQ s+32(FP), R10
	MOVQ xp+40(FP), AX
	SHLQ $4, AX
	MOVQ xj+48(FP), R12
	SHLQ $4, R12
	MOVQ yp+56(FP), DX
	SHLQ $4, DX
	MOVQ yk+64(FP), R11
	SHLQ $4, R11
	MOVQ ts+72(FP), R13
	SHLQ $4, R13
	SHRQ $1, R10
	TESTQ R9, R9
	JLE done2

ploop2:
	VBROADCASTSD 0(R8), Y9
	VBROADCASTSD 8(R8), Y10
	MOVQ SI, BX
	MOVQ DI, R15
	MOVQ R10, CX

qloop2:
	VMOVUPD (BX), Y0
	VMOVUPD (BX)(R12*1), Y1
	VADDPD Y1, Y0, Y2
	VSUBPD Y1, Y0, Y3
	VMOVUPD Y2, (R15)
	CMUL(Y3, Y9, Y10, Y5)
	VMOVUPD Y5, (R15)(R11*1)
	ADDQ $32, BX
	ADDQ $32, R15
	DECQ CX
	JNZ qloop2

	ADDQ AX, SI
	ADDQ DX, DI
	ADDQ R13, R8
	DECQ R9
	JNZ ploop2

done2:
	VZEROUPPER
	RET

// Sign masks: negate the odd (imaginary) or the even (real) lanes.
DATA negodd<>+0(SB)/8, $0x0000000000000000
DATA negodd<>+8(SB)/8, $0x8000000000000000
DATA negodd<>+16(SB)/8, $0x0000000000000000
DATA negodd<>+24(SB)/8, $0x8000000000000000
GLOBL negodd<>(SB), RODATA|NOPTR, $32
DATA negeven<>+0(SB)/8, $0x8000000000000000
DATA negeven<>+8(SB)/8, $0x0000000000000000
DATA negeven<>+16(SB)/8, $0x8000000000000000
DATA negeven<>+24(SB)/8, $0x0000000000000000
GLOBL negeven<>(SB), RODATA|NOPTR, $32
DATA half<>+0(SB)/8, $0.5
GLOBL half<>(SB), RODATA|NOPTR, $8

// func realPostAVX(spec, z, tw *complex128, m, v, h int)
//
// The k = 1 … m/2 part of realPost for an even number v of rows, two rows per
// Y register: with a = Z_k, b = Z_{m−k} (rows r, r+1),
// e = a + conj b, o = a − conj b, t = w_k·o,
// X_k = (e − i t)/2 and X_{m−k} = conj(e + i t)/2, stored at
// spec[r·h + k] and spec[r·h + m − k].
TEXT ·realPostAVX(SB), NOSPLIT, $0-48
	MOVQ spec+0(FP), DI
	MOVQ z+8(FP), SI
	MOVQ tw+16(FP), R8
	MOVQ m+24(FP), R9
	MOVQ v+32(FP), R10
	MOVQ h+40(FP), R11
	SHLQ $4, R11            // row stride of spec (bytes)
	VMOVUPD negodd<>(SB), Y13
	VMOVUPD negeven<>(SB), Y14
	VBROADCASTSD half<>(SB), Y15
	MOVQ R10, R12
	SHLQ $4, R12            // v·16: z stride per k
	MOVQ $1, R13            // k

kloop:
	MOVQ R13, AX
	SHLQ $1, AX
	CMPQ AX, R9
	JGT kdone
	ADDQ $16, R8
	VBROADCASTSD 0(R8), Y9  // wr
	VBROADCASTSD 8(R8), Y10 // wi
	// BX = z + k·v·16, CX = z + (m−k)·v·16
	MOVQ R13, AX
	IMULQ R12, AX
	LEAQ (SI)(AX*1), BX
	MOVQ R9, AX
	SUBQ R13, AX
	MOVQ AX, R14            // m − k
	IMULQ R12, AX
	LEAQ (SI)(AX*1), CX
	// DX = spec + k·16, R15 = spec + (m−k)·16
	MOVQ R13, AX
	SHLQ $4, AX
	LEAQ (DI)(AX*1), DX
	SHLQ $4, R14
	LEAQ (DI)(R14*1), R15
	MOVQ R10, AX
	SHRQ $1, AX             // row pairs

rloop:
	VMOVUPD (BX), Y0        // a
	VMOVUPD (CX), Y1        // b
	VXORPD Y13, Y1, Y1      // conj b
	VADDPD Y1, Y0, Y2       // e
	VSUBPD Y1, Y0, Y3       // o
	CMUL(Y3, Y9, Y10, Y4)   // t
	VPERMILPD $5, Y4, Y4    // (t_i, t_r)
	VXORPD Y13, Y4, Y5      // −i t = (t_i, −t_r)
	VADDPD Y5, Y2, Y5
	VMULPD Y15, Y5, Y5      // X_k
	VXORPD Y14, Y4, Y6      // i t = (−t_i, t_r)
	VADDPD Y6, Y2, Y6
	VXORPD Y13, Y6, Y6
	VMULPD Y15, Y6, Y6      // X_{m−k}
	VMOVUPD X5, (DX)
	VEXTRACTF128 $1, Y5, (DX)(R11*1)
	VMOVUPD X6, (R15)
	VEXTRACTF128 $1, Y6, (R15)(R11*1)
	ADDQ $32, BX
	ADDQ $32, CX
	LEAQ (DX)(R11*2), DX
	LEAQ (R15)(R11*2), R15
	DECQ AX
	JNZ rloop

	INCQ R13
	JMP kloop

kdone:
	VZEROUPPER
	RET

// func realPreAVX(z, spec, tw *complex128, m, v, h int, hf float64)
//
// The k = 1 … m/2 part of realPre for an even number v of rows: with
// a = X_k, b = X_{m−k} of rows r, r+1, e = a + conj b, d = a − conj b,
// o = conj(w_k)·d, Z_k = hf·(e + i o) and Z_{m−k} = hf·conj(e − i o),
// stored interleaved at z[k·v + r] and z[(m−k)·v + r].
TEXT ·realPreAVX(SB), NOSPLIT, $0-56
	MOVQ z+0(FP), DI
	MOVQ spec+8(FP), SI
	MOVQ tw+16(FP), R8
	MOVQ m+24(FP), R9
	MOVQ v+32(FP), R10
	MOVQ h+40(FP), R11
	SHLQ $4, R11
	VMOVUPD negodd<>(SB), Y13
	VMOVUPD negeven<>(SB), Y14
	VBROADCASTSD hf+48(FP), Y15
	MOVQ R10, R12
	SHLQ $4, R12
	MOVQ $1, R13

pkloop:
	MOVQ R13, AX
	SHLQ $1, AX
	CMPQ AX, R9
	JGT pkdone
	ADDQ $16, R8
	VBROADCASTSD 0(R8), Y9   // wr
	VBROADCASTSD 8(R8), Y10
	VXORPD Y11, Y11, Y11
	VSUBPD Y10, Y11, Y10     // −wi: conj(w)
	// BX = spec + k·16, CX = spec + (m−k)·16
	MOVQ R13, AX
	SHLQ $4, AX
	LEAQ (SI)(AX*1), BX
	MOVQ R9, AX
	SUBQ R13, AX
	MOVQ AX, R14
	SHLQ $4, AX
	LEAQ (SI)(AX*1), CX
	// DX = z + k·v·16, R15 = z + (m−k)·v·16
	MOVQ R13, AX
	IMULQ R12, AX
	LEAQ (DI)(AX*1), DX
	IMULQ R12, R14
	LEAQ (DI)(R14*1), R15
	MOVQ R10, AX
	SHRQ $1, AX

prloop:
	VMOVUPD (BX), X0
	VINSERTF128 $1, (BX)(R11*1), Y0, Y0   // a
	VMOVUPD (CX), X1
	VINSERTF128 $1, (CX)(R11*1), Y1, Y1   // b
	VXORPD Y13, Y1, Y1      // conj b
	VADDPD Y1, Y0, Y2       // e
	VSUBPD Y1, Y0, Y3       // d
	CMUL(Y3, Y9, Y10, Y4)   // o = conj(w)·d
	VPERMILPD $5, Y4, Y4    // (o_i, o_r)
	VXORPD Y14, Y4, Y5      // i o = (−o_i, o_r)
	VADDPD Y5, Y2, Y5
	VMULPD Y15, Y5, Y5      // Z_k
	VXORPD Y13, Y4, Y6      // −i o = (o_i, −o_r)
	VADDPD Y6, Y2, Y6
	VXORPD Y13, Y6, Y6      // conj
	VMULPD Y15, Y6, Y6      // Z_{m−k}
	VMOVUPD Y5, (DX)
	VMOVUPD Y6, (R15)
	LEAQ (BX)(R11*2), BX
	LEAQ (CX)(R11*2), CX
	ADDQ $32, DX
	ADDQ $32, R15
	DECQ AX
	JNZ prloop

	INCQ R13
	JMP pkloop

pkdone:
	VZEROUPPER
	RET

// func transposeToRows(dst *complex128, ld int, src *complex128, v, n int)
//
// dst[r·ld + j] = src[j·v + r] for r < v, j < n (v, n even): 2×2 blocks of
// complex values swapped across two Y registers.
TEXT ·transposeToRows(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ ld+8(FP), R8
	SHLQ $4, R8             // row stride of dst (bytes)
	MOVQ src+16(FP), SI
	MOVQ v+24(FP), R9
	SHLQ $4, R9             // row stride of src (bytes)
	MOVQ n+32(FP), R10
	SHRQ $1, R10            // j pairs
	MOVQ v+24(FP), R11
	SHRQ $1, R11            // r pairs

rpairT:
	MOVQ SI, BX             // src + r·16
	LEAQ (SI)(R9*1), CX     // next src row
	MOVQ DI, DX             // dst row r
	LEAQ (DI)(R8*1), R12    // dst row r+1
	MOVQ R10, R13

jpairT:
	VMOVUPD (BX), Y0        // (j, r), (j, r+1)
	VMOVUPD (CX), Y1        // (j+1, r), (j+1, r+1)
	VPERM2F128 $0x20, Y1, Y0, Y2
	VPERM2F128 $0x31, Y1, Y0, Y3
	VMOVUPD Y2, (DX)
	VMOVUPD Y3, (R12)
	LEAQ (BX)(R9*2), BX
	LEAQ (CX)(R9*2), CX
	ADDQ $32, DX
	ADDQ $32, R12
	DECQ R13
	JNZ jpairT

	ADDQ $32, SI
	LEAQ (DI)(R8*2), DI
	DECQ R11
	JNZ rpairT
	VZEROUPPER
	RET

// func transposeFromRows(dst, src *complex128, ld, v, n int)
//
// dst[j·v + r] = src[r·ld + j] for r < v, j < n (v, n even).
TEXT ·transposeFromRows(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	SHLQ $4, R8
	MOVQ v+24(FP), R9
	SHLQ $4, R9
	MOVQ n+32(FP), R10
	SHRQ $1, R10
	MOVQ v+24(FP), R11
	SHRQ $1, R11

rpairF:
	MOVQ SI, BX             // src row r
	LEAQ (SI)(R8*1), CX     // src row r+1
	MOVQ DI, DX             // dst + r·16
	LEAQ (DI)(R9*1), R12    // dst + (v + r)·16
	MOVQ R10, R13

jpairF:
	VMOVUPD (BX), Y0        // (r, j), (r, j+1)
	VMOVUPD (CX), Y1        // (r+1, j), (r+1, j+1)
	VPERM2F128 $0x20, Y1, Y0, Y2
	VPERM2F128 $0x31, Y1, Y0, Y3
	VMOVUPD Y2, (DX)
	VMOVUPD Y3, (R12)
	ADDQ $32, BX
	ADDQ $32, CX
	LEAQ (DX)(R9*2), DX
	LEAQ (R12)(R9*2), R12
	DECQ R13
	JNZ jpairF

	LEAQ (SI)(R8*2), SI
	ADDQ $32, DI
	DECQ R11
	JNZ rpairF
	VZEROUPPER
	RET
