//go:build !purego

#include "textflag.h"

// func liftAVX32(dst, x, a, b *float32, n int, c, k float32)
// dst = k·(x + c·(a + b)) by 16 values, then 8, then one at a time.
TEXT ·liftAVX32(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ a+16(FP), R8
	MOVQ b+24(FP), R9
	MOVQ n+32(FP), CX
	VBROADCASTSS c+40(FP), Y14
	VBROADCASTSS k+44(FP), Y15
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-16, DX
	JZ tail32

loop32:
	VMOVUPS (R8)(AX*4), Y0
	VMOVUPS 32(R8)(AX*4), Y1
	VADDPS (R9)(AX*4), Y0, Y0
	VADDPS 32(R9)(AX*4), Y1, Y1
	VMOVUPS (SI)(AX*4), Y2
	VMOVUPS 32(SI)(AX*4), Y3
	VFMADD231PS Y14, Y0, Y2
	VFMADD231PS Y14, Y1, Y3
	VMULPS Y15, Y2, Y2
	VMULPS Y15, Y3, Y3
	VMOVUPS Y2, (DI)(AX*4)
	VMOVUPS Y3, 32(DI)(AX*4)
	ADDQ $16, AX
	CMPQ AX, DX
	JLT loop32

tail32:
	MOVQ CX, DX
	SUBQ AX, DX
	CMPQ DX, $8
	JLT one32
	VMOVUPS (R8)(AX*4), Y0
	VADDPS (R9)(AX*4), Y0, Y0
	VMOVUPS (SI)(AX*4), Y2
	VFMADD231PS Y14, Y0, Y2
	VMULPS Y15, Y2, Y2
	VMOVUPS Y2, (DI)(AX*4)
	ADDQ $8, AX

one32:
	CMPQ AX, CX
	JGE done32
	VMOVSS (R8)(AX*4), X0
	VADDSS (R9)(AX*4), X0, X0
	VMOVSS (SI)(AX*4), X2
	VFMADD231SS X14, X0, X2
	VMULSS X15, X2, X2
	VMOVSS X2, (DI)(AX*4)
	INCQ AX
	JMP one32

done32:
	VZEROUPPER
	RET

// func liftAVX64(dst, x, a, b *float64, n int, c, k float64)
TEXT ·liftAVX64(SB), NOSPLIT, $0-56
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ a+16(FP), R8
	MOVQ b+24(FP), R9
	MOVQ n+32(FP), CX
	VBROADCASTSD c+40(FP), Y14
	VBROADCASTSD k+48(FP), Y15
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $-8, DX
	JZ tail64

loop64:
	VMOVUPD (R8)(AX*8), Y0
	VMOVUPD 32(R8)(AX*8), Y1
	VADDPD (R9)(AX*8), Y0, Y0
	VADDPD 32(R9)(AX*8), Y1, Y1
	VMOVUPD (SI)(AX*8), Y2
	VMOVUPD 32(SI)(AX*8), Y3
	VFMADD231PD Y14, Y0, Y2
	VFMADD231PD Y14, Y1, Y3
	VMULPD Y15, Y2, Y2
	VMULPD Y15, Y3, Y3
	VMOVUPD Y2, (DI)(AX*8)
	VMOVUPD Y3, 32(DI)(AX*8)
	ADDQ $8, AX
	CMPQ AX, DX
	JLT loop64

tail64:
	MOVQ CX, DX
	SUBQ AX, DX
	CMPQ DX, $4
	JLT one64
	VMOVUPD (R8)(AX*8), Y0
	VADDPD (R9)(AX*8), Y0, Y0
	VMOVUPD (SI)(AX*8), Y2
	VFMADD231PD Y14, Y0, Y2
	VMULPD Y15, Y2, Y2
	VMOVUPD Y2, (DI)(AX*8)
	ADDQ $4, AX

one64:
	CMPQ AX, CX
	JGE done64
	VMOVSD (R8)(AX*8), X0
	VADDSD (R9)(AX*8), X0, X0
	VMOVSD (SI)(AX*8), X2
	VFMADD231SD X14, X0, X2
	VMULSD X15, X2, X2
	VMOVSD X2, (DI)(AX*8)
	INCQ AX
	JMP one64

done64:
	VZEROUPPER
	RET

// func splitAVX32(s, d, x *float32, n int)
// By 16 input values, then one pair at a time: SHUFPS picks the even (0x88) or odd (0xDD) elements
// of each 128-bit lane pair, PERMPD 0xD8 puts the 64-bit chunks in order.
TEXT ·splitAVX32(SB), NOSPLIT, $0-32
	MOVQ s+0(FP), DI
	MOVQ d+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-8, BX
	JZ splitone32

split32:
	VMOVUPS (SI), Y0
	VMOVUPS 32(SI), Y1
	VSHUFPS $0x88, Y1, Y0, Y2
	VSHUFPS $0xDD, Y1, Y0, Y3
	VPERMPD $0xD8, Y2, Y2
	VPERMPD $0xD8, Y3, Y3
	VMOVUPS Y2, (DI)(AX*4)
	VMOVUPS Y3, (DX)(AX*4)
	ADDQ $64, SI
	ADDQ $8, AX
	CMPQ AX, BX
	JLT split32

splitone32:
	CMPQ AX, CX
	JGE splitdone32
	MOVL (SI), R8
	MOVL R8, (DI)(AX*4)
	MOVL 4(SI), R8
	MOVL R8, (DX)(AX*4)
	ADDQ $8, SI
	INCQ AX
	JMP splitone32

splitdone32:
	VZEROUPPER
	RET

// func splitAVX64(s, d, x *float64, n int)
TEXT ·splitAVX64(SB), NOSPLIT, $0-32
	MOVQ s+0(FP), DI
	MOVQ d+8(FP), DX
	MOVQ x+16(FP), SI
	MOVQ n+24(FP), CX
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-4, BX
	JZ splitone64

split64:
	VMOVUPD (SI), Y0
	VMOVUPD 32(SI), Y1
	VUNPCKLPD Y1, Y0, Y2
	VUNPCKHPD Y1, Y0, Y3
	VPERMPD $0xD8, Y2, Y2
	VPERMPD $0xD8, Y3, Y3
	VMOVUPD Y2, (DI)(AX*8)
	VMOVUPD Y3, (DX)(AX*8)
	ADDQ $64, SI
	ADDQ $4, AX
	CMPQ AX, BX
	JLT split64

splitone64:
	CMPQ AX, CX
	JGE splitdone64
	MOVQ (SI), R8
	MOVQ R8, (DI)(AX*8)
	MOVQ 8(SI), R8
	MOVQ R8, (DX)(AX*8)
	ADDQ $16, SI
	INCQ AX
	JMP splitone64

splitdone64:
	VZEROUPPER
	RET

// func mergeAVX32(x, s, d *float32, n int)
// UNPCKL/HPS interleave within 128-bit lanes; PERM2F128 joins the low lanes
// (0x20) and the high lanes (0x31).
TEXT ·mergeAVX32(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), DI
	MOVQ s+8(FP), SI
	MOVQ d+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-8, BX
	JZ mergeone32

merge32:
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS (DX)(AX*4), Y1
	VUNPCKLPS Y1, Y0, Y2
	VUNPCKHPS Y1, Y0, Y3
	VPERM2F128 $0x20, Y3, Y2, Y4
	VPERM2F128 $0x31, Y3, Y2, Y5
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, 32(DI)
	ADDQ $64, DI
	ADDQ $8, AX
	CMPQ AX, BX
	JLT merge32

mergeone32:
	CMPQ AX, CX
	JGE mergedone32
	MOVL (SI)(AX*4), R8
	MOVL R8, (DI)
	MOVL (DX)(AX*4), R8
	MOVL R8, 4(DI)
	ADDQ $8, DI
	INCQ AX
	JMP mergeone32

mergedone32:
	VZEROUPPER
	RET

// func mergeAVX64(x, s, d *float64, n int)
TEXT ·mergeAVX64(SB), NOSPLIT, $0-32
	MOVQ x+0(FP), DI
	MOVQ s+8(FP), SI
	MOVQ d+16(FP), DX
	MOVQ n+24(FP), CX
	XORQ AX, AX
	MOVQ CX, BX
	ANDQ $-4, BX
	JZ mergeone64

merge64:
	VMOVUPD (SI)(AX*8), Y0
	VMOVUPD (DX)(AX*8), Y1
	VUNPCKLPD Y1, Y0, Y2
	VUNPCKHPD Y1, Y0, Y3
	VPERM2F128 $0x20, Y3, Y2, Y4
	VPERM2F128 $0x31, Y3, Y2, Y5
	VMOVUPD Y4, (DI)
	VMOVUPD Y5, 32(DI)
	ADDQ $64, DI
	ADDQ $4, AX
	CMPQ AX, BX
	JLT merge64

mergeone64:
	CMPQ AX, CX
	JGE mergedone64
	MOVQ (SI)(AX*8), R8
	MOVQ R8, (DI)
	MOVQ (DX)(AX*8), R8
	MOVQ R8, 8(DI)
	ADDQ $16, DI
	INCQ AX
	JMP mergeone64

mergedone64:
	VZEROUPPER
	RET
