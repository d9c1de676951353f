#!/usr/bin/env python3
"""PyTorch reference ST-FNO on the CPU: the anchor for Eddy's solvers/stfno benchmarks.

ST-FNO is the space-time Fourier neural operator of Cao, Brarda, Li and Xi
("Spectral-Refiner", ICLR 2025, Section 2 of the Eddy specification). This file
implements it from that specification in plain PyTorch (float32 or float64) and
times what a PyTorch user would run instead of Eddy:

  train step   forward + relative L2 loss + backward + Adam step,
  predict      forward under torch.no_grad(),

with torch.set_num_threads(2), warm-up iterations excluded, reporting the
median over the timed iterations as one line per run:

  torch stfno <shape> <dtype> train_step_s=<s> predict_s=<s> params=<count> ...

Conventions (the same as Eddy's): tensors are channels-first (b, C, x, y, t);
x is the first spatial axis, y the second, t the last (the real half-spectrum
axis of the FFT). The input trajectory is (b, n, n, T_in), the output
(b, n, n, T_out).

Usage:
  stfno_torch.py --shape reference --dtype float64        benchmark one shape
  stfno_torch.py --check                                  cross-checks, no timing
"""

import argparse
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

# Benchmark shapes. fno-mini is benchmark C of the specification; reference is
# the authors' forced-turbulence ("FNO data") model at the training grid.
SHAPES = {
    "fno-mini": dict(batch=4, n=32, width=8, modes=(8, 8, 4), t_in=10, t_out=10,
                     t_lat=10, layers=4, expansion=4),
    "reference": dict(batch=4, n=64, width=20, modes=(12, 12, 5), t_in=10, t_out=40,
                      t_lat=10, layers=4, expansion=4),
}

# Kernels: "plain" uses the operations of the authors' code (nn.Conv3d for the
# 1×1×1 convolutions, a complex einsum for the spectral mixing); "tuned" the
# same maps as real batched GEMMs (see Pointwise and SpectralConv3d).
IMPLS = ("plain", "tuned")

# Parameter count printed by the authors' notebook for the reference setting
# (width 20, modes 12/12/5), whose MLPs had 128 hidden channels (see
# param_count).
AUTHORS_REFERENCE_PARAMS = 9_250_333
AUTHORS_REFERENCE_MLP_CHANNELS = 128


def corners(z, mx, my):
    """The low-mode block of a spectrum: rows {0..mx-1} ∪ {-mx..-1} on axis -3,
    columns {0..my-1} ∪ {-my..-1} on axis -2, in that order. Shape (..., 2mx, 2my, t)."""
    z = torch.cat([z[..., :mx, :, :], z[..., -mx:, :, :]], dim=-3)
    return torch.cat([z[..., :my, :], z[..., -my:, :]], dim=-2)


class SpectralConv3d(nn.Module):
    """Spectral convolution over (x, y, t) with resampling in time.

    For v of shape (b, C_in, n_x, n_y, n_t) and an output length n_t':

      v̂ = rfftn(v) over (x, y, t)  (t is the half-spectrum axis),
      ŵ[b, o, k] = Σ_i v̂[b, i, k]·W[i, o, k] + δ·β[o, k]   for kept k, 0 otherwise,
      w = irfftn(ŵ, s = (n_x, n_y, n_t')).

    Kept modes: k_x ∈ {0..m_x-1} ∪ {-m_x..-1}, k_y likewise, k_t ∈ {0..m_t-1}:
    the four blocks (±x × ±y) × t-modes of the specification, stored as one
    complex array W of shape (C_in, C_out, 2m_x, 2m_y, m_t) (real and imaginary
    parts in a trailing axis of 2), mode index q < m standing for k = q and
    q ≥ m for k = q - 2m. The optional bias β has shape (C_out, 2m_x, 2m_y, m_t).

    Normalisation "forward" (the default, Eddy's convention) puts 1/(n_x n_y n_t)
    on the forward transform and nothing on the inverse, so resampling in time
    keeps the amplitude of band-limited signals; "backward" (the authors') puts
    1/(n_x n_y n_t') on the inverse instead, which rescales by n_t/n_t' when
    n_t' ≠ n_t. Requires 2m_x ≤ n_x, 2m_y ≤ n_y, m_t ≤ n_t//2+1 and m_t ≤ n_t'//2+1.

    Initialisation: real and imaginary parts uniform on [0, 0.5/(C_in C_out)),
    bias 0. Cost: two 3-D real FFTs per channel plus 8·b·C_in·C_out·4m_x m_y m_t
    flops for the mixing. impl "plain" mixes with a complex einsum, as the
    authors' code does (PyTorch 1.13 runs it on the CPU as one small complex
    product per mode); "tuned" with one real batched GEMM over the modes, W in
    its real 2C_in×2C_out block form [[Re W, Im W], [-Im W, Re W]].
    """

    def __init__(self, c_in, c_out, modes, bias=False, delta=1.0, norm="forward", impl="plain"):
        super().__init__()
        if impl not in IMPLS:
            raise ValueError(f"unknown implementation {impl!r}")
        mx, my, mt = modes
        self.c_in, self.c_out, self.modes = c_in, c_out, (mx, my, mt)
        self.delta, self.norm, self.impl = delta, norm, impl
        gain = 0.5 / (c_in * c_out)
        self.weight = nn.Parameter(gain * torch.rand(c_in, c_out, 2 * mx, 2 * my, mt, 2))
        self.bias = nn.Parameter(torch.zeros(c_out, 2 * mx, 2 * my, mt, 2)) if bias else None

    def forward(self, v, nt_out=None):
        b, _, nx, ny, nt = v.shape
        nt_out = nt if nt_out is None else nt_out
        mx, my, mt = self.modes
        if 2 * mx > nx or 2 * my > ny or mt > nt // 2 + 1 or mt > nt_out // 2 + 1:
            raise ValueError(f"modes {self.modes} do not fit grid {(nx, ny, nt)} -> t {nt_out}")
        vh = torch.fft.rfftn(v, dim=(-3, -2, -1), norm=self.norm)
        low = corners(vh[..., :mt], mx, my)                       # (b, i, 2mx, 2my, mt)
        if self.impl == "plain":
            w = torch.view_as_complex(self.weight)
            wh = torch.einsum("bixyt,ioxyt->boxyt", low, w)       # (b, o, 2mx, 2my, mt)
        else:
            wh = self.mix_real(low)
        if self.bias is not None:
            wh = wh + self.delta * torch.view_as_complex(self.bias)
        out = torch.zeros(b, self.c_out, nx, ny, nt_out // 2 + 1, dtype=vh.dtype)
        out[..., :mx, :my, :mt] = wh[..., :mx, :my, :]
        out[..., :mx, -my:, :mt] = wh[..., :mx, my:, :]
        out[..., -mx:, :my, :mt] = wh[..., mx:, :my, :]
        out[..., -mx:, -my:, :mt] = wh[..., mx:, my:, :]
        return torch.fft.irfftn(out, s=(nx, ny, nt_out), dim=(-3, -2, -1), norm=self.norm)

    def mix_real(self, low):
        """Σ_i low[b, i, k]·W[i, o, k] as one real bmm over the M kept modes:
        (M, b, [Re, Im]·C_in) × (M, 2C_in, 2C_out) → (M, b, [Re, Im]·C_out)."""
        b, ci, kx, ky, kt = low.shape
        m, co = kx * ky * kt, self.c_out
        x = torch.cat([low.real, low.imag], dim=1).permute(2, 3, 4, 0, 1).reshape(m, b, 2 * ci)
        w = self.weight.permute(2, 3, 4, 0, 1, 5).reshape(m, ci, co, 2)
        wr, wi = w[..., 0], w[..., 1]
        blocks = torch.cat([torch.cat([wr, wi], dim=2), torch.cat([-wi, wr], dim=2)], dim=1)
        y = torch.bmm(x, blocks).view(kx, ky, kt, b, 2, co)     # (M, b, 2co)
        return torch.complex(y[..., 0, :], y[..., 1, :]).permute(3, 4, 0, 1, 2)


def activation(name):
    """σ: "gelu" = exact x·Φ(x) with the error function, "gelu_tanh" =
    ½x(1 + tanh(√(2/π)(x + 0.044715x³))), "relu"."""
    if name == "gelu":
        return nn.GELU()
    if name == "gelu_tanh":
        return nn.GELU(approximate="tanh")
    if name == "relu":
        return nn.ReLU()
    raise ValueError(f"unknown activation {name!r}")


class Pointwise(nn.Module):
    """1×1×1 convolution C_in → C_out: y[b, o, s] = Σ_i A[o, i]·v[b, i, s] + c[o]
    at every grid point s. Parameters as nn.Conv3d's (weight (C_out, C_in, 1, 1, 1)
    and bias (C_out)). impl "plain" calls nn.functional.conv3d, as the authors'
    code does; "tuned" applies A as one batched GEMM (baddbmm, A broadcast over
    the batch) on the (b, C_in, n_x n_y n_t) view: the same map by another
    kernel, about twice as fast on the CPU as PyTorch 1.13's 1×1×1 conv3d,
    whose backward is the largest single cost of a plain training step."""

    def __init__(self, c_in, c_out, impl="plain"):
        super().__init__()
        if impl not in IMPLS:
            raise ValueError(f"unknown implementation {impl!r}")
        conv = nn.Conv3d(c_in, c_out, 1)  # for its default initialisation
        self.weight, self.bias, self.impl = conv.weight, conv.bias, impl

    def forward(self, v):
        if self.impl == "plain":
            return F.conv3d(v, self.weight, self.bias)
        b, c, *grid = v.shape
        a = self.weight.view(self.weight.shape[0], c).expand(b, -1, -1)
        y = torch.baddbmm(self.bias.view(1, -1, 1), a, v.reshape(b, c, -1))
        return y.view(b, -1, *grid)


class ChannelMLP(nn.Module):
    """Pointwise MLP C → E → C: two 1×1×1 convolutions with σ between."""

    def __init__(self, c, hidden, act, impl="plain"):
        super().__init__()
        self.fc1 = Pointwise(c, hidden, impl)
        self.fc2 = Pointwise(hidden, c, impl)
        self.act = activation(act)

    def forward(self, v):
        return self.fc2(self.act(self.fc1(v)))


class STFNO(nn.Module):
    """ST-FNO for a scalar field: ω_in (b, n, n, T_in) → ω_out (b, n, n, T_out).

    Width C, modes (m_x, m_y, m_t), latent length T_lat, L spectral layers
    (one in the lifting, L-1 hidden), MLP hidden channels E (= expansion·C):

    1. Lifting: v = ω_in (broadcast to C channels) + PE, PE channels
       [x-grid, y-grid, t-grid, e^{βt}{sin,cos}(π(j+1)t) for j = 0..C-4]
       (sin for even j), grids linspace(0, 1), t_k = k/100 for k = 1..T_in;
       v ← Conv1(GroupNorm₁(v)); v ← σ(v[..., last t] + MLP(K_T(v))), K_T a
       spectral convolution without bias resampling T_in → T_lat.
    2. Hidden layers (L-1 times): v ← σ(MLP(K(v)) + W v), W a 1×1×1 conv.
    3. Reduction: q = Conv(C → 1)(v), shape (b, 1, n, n, T_lat).
    4. Output operator: q' = [ω_in(t_last), q] (length T_lat+1), zero-padded
       on the left in time by T_lat+1; a 1 → 1 spectral convolution with bias·δ
       resampling to (T_out+1) + (T_lat+1); keep the last T_out frames;
       ω_out = ω_in(t_last) + that.
    """

    def __init__(self, width, modes, t_lat=10, layers=4, hidden=None, act="gelu",
                 beta=1e-2, delta=0.1, norm="forward", eps=1e-6, impl="plain"):
        super().__init__()
        if width < 4 or layers < 2:
            raise ValueError("need width ≥ 4 and at least 2 spectral layers")
        c = width
        hidden = 4 * c if hidden is None else hidden
        self.width, self.t_lat, self.beta = c, t_lat, beta
        self.group_norm = nn.GroupNorm(1, c, eps=eps)
        self.lift = Pointwise(c, c, impl)
        self.lift_conv = SpectralConv3d(c, c, modes, norm=norm, impl=impl)
        self.lift_mlp = ChannelMLP(c, hidden, act, impl)
        self.convs = nn.ModuleList(SpectralConv3d(c, c, modes, norm=norm, impl=impl)
                                   for _ in range(layers - 1))
        self.mlps = nn.ModuleList(ChannelMLP(c, hidden, act, impl) for _ in range(layers - 1))
        self.ws = nn.ModuleList(Pointwise(c, c, impl) for _ in range(layers - 1))
        self.act = activation(act)
        self.reduction = Pointwise(c, 1, impl)
        self.out_conv = SpectralConv3d(1, 1, modes, bias=True, delta=delta, norm=norm, impl=impl)
        self._pe = None

    def positional_encoding(self, nx, ny, nt, dtype):
        """PE of shape (1, C, nx, ny, nt), cached per grid and dtype."""
        key = (nx, ny, nt, dtype)
        if self._pe is None or self._pe[0] != key:
            gx = torch.linspace(0, 1, nx, dtype=torch.float64)
            gy = torch.linspace(0, 1, ny, dtype=torch.float64)
            gt = torch.linspace(0, 1, 101, dtype=torch.float64)[1:nt + 1]
            if gt.numel() < nt:
                raise ValueError("the positional encoding supports at most 100 input frames")
            ch = [gx.view(nx, 1, 1).expand(nx, ny, nt),
                  gy.view(1, ny, 1).expand(nx, ny, nt),
                  gt.view(1, 1, nt).expand(nx, ny, nt)]
            for j in range(self.width - 3):
                basis = torch.sin if j % 2 == 0 else torch.cos
                f = torch.exp(self.beta * gt) * basis(math.pi * (j + 1) * gt)
                ch.append(f.view(1, 1, nt).expand(nx, ny, nt))
            self._pe = (key, torch.stack(ch).unsqueeze(0).to(dtype).contiguous())
        return self._pe[1]

    def forward(self, w, t_out=None):
        b, nx, ny, t_in = w.shape
        t_out = t_in if t_out is None else t_out
        v = w.unsqueeze(1) + self.positional_encoding(nx, ny, t_in, w.dtype)
        v = self.lift(self.group_norm(v))
        v = self.act(v[..., -1:] + self.lift_mlp(self.lift_conv(v, self.t_lat)))
        for conv, mlp, lin in zip(self.convs, self.mlps, self.ws):
            v = self.act(mlp(conv(v)) + lin(v))
        q = self.reduction(v)                                    # (b, 1, nx, ny, T_lat)
        last = w[..., -1:].unsqueeze(1)                          # (b, 1, nx, ny, 1)
        q = torch.cat([last, q], dim=-1)                         # length T_lat+1
        pad = q.shape[-1]
        q = F.pad(q, (pad, 0))                                   # length 2(T_lat+1)
        y = self.out_conv(q, (t_out + 1) + pad)
        return (last + y[..., -t_out:]).squeeze(1)               # (b, nx, ny, T_out)


def param_count(width, modes, layers, hidden):
    """Number of real parameters, written out (complex counted as 2):

      L·4·C²·m_x·m_y·m_t·2       spectral weights of the L C→C layers (4 blocks, re+im)
      + 2C                       GroupNorm affine (scale and shift per channel)
      + C² + C                   lifting 1×1×1 conv
      + L·(2·C·E + E + C)        the L channel MLPs C → E → C with biases
      + (L-1)·(C² + C)           the W convs of the hidden layers
      + C + 1                    reduction C → 1
      + 2·(4·m_x·m_y·m_t·2)      output 1→1 spectral weight and per-mode bias

    Reference (C 20, modes 12/12/5, L 4, E 4C = 80): 9 216 000 + 40 + 420 +
    13 200 + 1 260 + 21 + 11 520 = 9 242 461. The authors' notebook prints
    9 250 333 because its MLPs had E = 128 hidden channels (the code's former
    default channel_expansion=128, an absolute channel count): 4 MLPs ×
    (128 - 80)·(2C + 1) = 7 872 more. No term depends on the grid n, so a model
    trained on 64² runs on 256² with the same weights.
    """
    c, (mx, my, mt), e = width, modes, hidden
    m = mx * my * mt
    return (layers * 4 * c * c * m * 2 + 2 * c + c * c + c
            + layers * (2 * c * e + e + c) + (layers - 1) * (c * c + c)
            + c + 1 + 2 * (4 * m * 2))


def counted_params(model):
    return sum(p.numel() for p in model.parameters())


def rel_l2(pred, target):
    """Mean over the batch of ‖pred - target‖ / ‖target‖ over (x, y, t)."""
    diff = (pred - target).flatten(1).norm(dim=1)
    return (diff / target.flatten(1).norm(dim=1)).mean()


def median_seconds(fn, warmup, iters):
    """Median wall-clock and process CPU seconds of fn over iters calls after
    warmup untimed calls. CPU seconds sum over threads; on a loaded machine they
    are the steadier figure."""
    for _ in range(warmup):
        fn()
    wall, cpu = [], []
    for _ in range(iters):
        w0, c0 = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall), statistics.median(cpu)


def benchmark(args):
    cfg = SHAPES[args.shape]
    dtype = {"float32": torch.float32, "float64": torch.float64}[args.dtype]
    torch.manual_seed(args.seed)
    hidden = cfg["expansion"] * cfg["width"]
    model = STFNO(cfg["width"], cfg["modes"], cfg["t_lat"], cfg["layers"], hidden,
                  act=args.act, norm=args.fft_norm, impl=args.impl).to(dtype)
    params = counted_params(model)
    formula = param_count(cfg["width"], cfg["modes"], cfg["layers"], hidden)
    if params != formula:
        sys.exit(f"parameter count {params} differs from the formula {formula}")
    b, n = cfg["batch"], cfg["n"]
    x = torch.randn(b, n, n, cfg["t_in"], dtype=dtype)
    y = torch.randn(b, n, n, cfg["t_out"], dtype=dtype)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def train_step():
        opt.zero_grad(set_to_none=True)
        loss = rel_l2(model(x, cfg["t_out"]), y)
        loss.backward()
        opt.step()

    def predict():
        with torch.no_grad():
            model(x, cfg["t_out"])

    model.train()
    train_s, train_cpu = median_seconds(train_step, args.warmup, args.iters)
    model.eval()
    predict_s, predict_cpu = median_seconds(predict, args.warmup, args.iters)
    print(f"torch stfno {args.shape} {args.dtype} train_step_s={train_s:.6g} "
          f"predict_s={predict_s:.6g} params={params} train_step_cpu_s={train_cpu:.6g} "
          f"predict_cpu_s={predict_cpu:.6g} threads={torch.get_num_threads()} "
          f"act={args.act} fft_norm={args.fft_norm} impl={args.impl} warmup={args.warmup} iters={args.iters} "
          f"torch={torch.__version__}")


def check(args):
    """Cheap cross-checks of the model; exits non-zero on the first failure."""
    torch.manual_seed(args.seed)
    failures = []

    def expect(ok, what):
        print(f"{'ok  ' if ok else 'FAIL'} {what}")
        if not ok:
            failures.append(what)

    # 1. Output shapes: T_out ≠ T_in, twice the grid, another T_in, one output frame.
    cfg = SHAPES["reference"]
    model = STFNO(cfg["width"], cfg["modes"], cfg["t_lat"], cfg["layers"]).double()
    with torch.no_grad():
        for n, t_in, t_out in [(64, 10, 40), (128, 10, 40), (64, 12, 10), (64, 10, 1)]:
            out = model(torch.randn(1, n, n, t_in, dtype=torch.float64), t_out)
            expect(tuple(out.shape) == (1, n, n, t_out),
                   f"shape n={n} T_in={t_in} T_out={t_out}: {tuple(out.shape)}")

    # 2. Parameter counts: counted = formula for both shapes, and the authors'
    #    9 250 333 with their 128 MLP channels.
    for name, c in SHAPES.items():
        h = c["expansion"] * c["width"]
        m = STFNO(c["width"], c["modes"], c["t_lat"], c["layers"], h)
        f = param_count(c["width"], c["modes"], c["layers"], h)
        expect(counted_params(m) == f, f"params {name}: counted {counted_params(m)}, formula {f}")
    m = STFNO(20, (12, 12, 5), 10, 4, AUTHORS_REFERENCE_MLP_CHANNELS)
    expect(counted_params(m) == AUTHORS_REFERENCE_PARAMS,
           f"params with E=128: {counted_params(m)} (authors' notebook {AUTHORS_REFERENCE_PARAMS})")

    # 3. Spectral convolution with identity channel weights on a band-limited
    #    field: reproduces it, and resamples it in time exactly (forward norm),
    #    or scaled by n_t/n_t' (backward norm). Tolerance 1e-12: float64
    #    round-off of FFTs of length ≤ 32.
    nx, ny, nt = 16, 12, 10
    mx, my, mt = 4, 3, 3
    xs = torch.arange(nx, dtype=torch.float64).view(nx, 1, 1)
    ys = torch.arange(ny, dtype=torch.float64).view(1, ny, 1)

    def field(t_len):
        ts = torch.arange(t_len, dtype=torch.float64).view(1, 1, t_len)
        f = (torch.cos(2 * math.pi * (3 * xs / nx - 2 * ys / ny) + 0.3)
             * torch.cos(2 * math.pi * 2 * ts / t_len + 0.7)
             + torch.sin(2 * math.pi * (-1 * xs / nx + 1 * ys / ny)) * torch.cos(2 * math.pi * ts / t_len))
        return torch.stack([f, 2 * f]).unsqueeze(0)            # (1, 2, nx, ny, t)

    for norm in ("forward", "backward"):
        conv = SpectralConv3d(2, 2, (mx, my, mt), norm=norm).double()
        with torch.no_grad():
            conv.weight.zero_()
            for i in range(2):
                conv.weight[i, i, ..., 0] = 1.0
            v = field(nt)
            for nt_out in (nt, 7, 25):
                scale = 1.0 if norm == "forward" else nt / nt_out
                err = (conv(v, nt_out) - scale * field(nt_out)).abs().max().item()
                expect(err < 1e-12, f"identity spectral conv, norm={norm}, t {nt} -> {nt_out}: max err {err:.2e}")

    # 4. Both kernels compute the same map and the same parameter gradients: a
    #    1×1×1 convolution, a spectral convolution with bias, a whole model
    #    (float64 round-off of sums of ≤ 80 terms and FFTs of ≤ 52 points:
    #    tolerance 1e-12 relative to the largest entry).
    v = torch.randn(2, 20, 8, 8, 5, dtype=torch.float64)
    pairs = [("pointwise 20 -> 80", Pointwise(20, 80, "plain"), Pointwise(20, 80, "tuned"), v, ()),
             ("spectral conv 20 -> 20, bias, t 5 -> 9",
              SpectralConv3d(20, 20, (3, 2, 3), bias=True, delta=0.1, impl="plain"),
              SpectralConv3d(20, 20, (3, 2, 3), bias=True, delta=0.1, impl="tuned"), v, (9,)),
             ("fno-mini model, T 10 -> 13",
              STFNO(8, (8, 8, 4), impl="plain"), STFNO(8, (8, 8, 4), impl="tuned"),
              torch.randn(2, 32, 32, 10, dtype=torch.float64), (13,))]
    for what, a, m, inp, extra in pairs:
        a.double()
        with torch.no_grad():
            for p in a.parameters():
                p.add_(0.1 * torch.randn_like(p))     # nonzero biases too
        m.double().load_state_dict(a.state_dict())
        ya, ym = a(inp, *extra), m(inp, *extra)
        err = ((ya - ym).abs().max() / ya.abs().max()).item()
        expect(err < 1e-12, f"plain = tuned, {what}: max relative err {err:.2e}")
        r = torch.randn_like(ya)
        (ya * r).sum().backward()
        (ym * r).sum().backward()
        gerr = max(((pa.grad - pm.grad).abs().max() / pa.grad.abs().max()).item()
                   for pa, pm in zip(a.parameters(), m.parameters()))
        expect(gerr < 1e-12, f"plain = tuned, {what}: parameter gradients, max relative err {gerr:.2e}")

    # 5. Gradients of a tiny model against finite differences (float64).
    for impl in IMPLS:
        tiny = STFNO(4, (2, 2, 2), t_lat=6, layers=2, hidden=8, impl=impl).double()
        inp = torch.randn(1, 8, 8, 5, dtype=torch.float64, requires_grad=True)
        ok = torch.autograd.gradcheck(lambda z: tiny(z, 7), (inp,), eps=1e-6, atol=1e-6)
        expect(ok, f"gradcheck tiny model, {impl} (input gradient, T 5 -> 7)")

    if failures:
        sys.exit(f"{len(failures)} check(s) failed")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--shape", choices=sorted(SHAPES), default="fno-mini")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float64")
    p.add_argument("--act", choices=["gelu", "gelu_tanh", "relu"], default="gelu",
                   help="σ; gelu is the exact (erf) form")
    p.add_argument("--fft-norm", choices=["forward", "backward"], default="forward")
    p.add_argument("--impl", choices=IMPLS, default="plain",
                   help="plain: the authors' kernels (conv3d, complex einsum); tuned: real GEMMs")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--iters", type=int, default=5)
    p.add_argument("--seed", type=int, default=1127825)
    p.add_argument("--check", action="store_true", help="run the cross-checks instead")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    if args.check:
        check(args)
    else:
        benchmark(args)


if __name__ == "__main__":
    main()
