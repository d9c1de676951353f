"""End-to-end check of eddy_client against a running Eddy server.

    python3 check_client.py http://127.0.0.1:8080 WORKDIR

Runs one small job of each kind (ten), reads every result with h5py, checks that
the .npy endpoint gives exactly the file's values (whole and sliced), that a
bad param raises EddyError naming its field, and prints "N passed, N failed".
Needs numpy and h5py.
"""

import os
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from eddy_client import Client, EddyError  # noqa: E402

base, work = sys.argv[1], sys.argv[2]
eddy = Client(base)
passed, failed = 0, 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
        print("FAIL %s %s" % (what, detail), flush=True)


def result(job, name):
    """A job's result, opened with h5py."""
    return eddy.open(job["id"], os.path.join(work, name + ".h5"))


kinds = {k["name"] for k in eddy.kinds()}
check("kinds", {"poisson.solve", "navier_stokes.simulate", "gp.solve", "unmix", "stfno.train", "stfno.predict",
               "dcdm.train", "walloc.train", "walloc.encode", "walloc.decode"} <= kinds, kinds)

# poisson.solve: the .npy endpoint and h5py agree bit for bit.
seen = []
job = eddy.run("poisson.solve", {"dim": 2, "n": 32}, progress=seen.append)
check("poisson progress", seen and seen[-1]["state"] == "succeeded", [j["state"] for j in seen])
with result(job, "poisson") as f:
    u = f["solution"][()]
    check("poisson dims", f["solution"].attrs["dims"] == "y,x", f["solution"].attrs["dims"])
    check("poisson metrics", f["metrics"].attrs["iterations"] == job["result"]["metrics"]["iterations"])
whole, attrs = eddy.dataset(job["id"], "solution", with_attrs=True)
check("npy whole", whole.dtype == np.float64 and np.array_equal(whole, u), (whole.dtype, whole.shape))
check("npy attrs", attrs["dims"] == ["y", "x"], attrs)
row = eddy.dataset(job["id"], "solution", slice="5,2::3")
check("npy slice", np.array_equal(row, u[5, 2::3]), row.shape)
check("npy negative", np.array_equal(eddy.dataset(job["id"], "solution", slice="-1"), u[-1]))
plot = eddy.plot(job["id"], "solution", os.path.join(work, "solution.png"))
with open(plot, "rb") as fp:
    check("plot png", fp.read(8) == b"\x89PNG\r\n\x1a\n")

try:
    eddy.submit("poisson.solve", {"n": 1})
    check("bad param refused", False)
except EddyError as e:
    check("bad param refused", e.status in (400, 422) and any(x["path"] == "/params/n" for x in e.errors), e.errors)

# navier_stokes.simulate, then the neural operator trained on it and its prediction.
sim = eddy.run("navier_stokes.simulate", {"n": 32, "samples": 4, "dt": 0.002, "t_warmup": 0.5, "snapshot_dt": 0.2,
                                          "t_end": 3.5, "seed": 3}, progress=False)
with result(sim, "sim") as f:
    w = f["vorticity"]
    check("vorticity", w.attrs["dims"] == "sample,t,y,x" and w.shape[0] == 4 and w.shape[2:] == (32, 32), w.shape)
    frame = eddy.dataset(sim["id"], "vorticity", slice="1,3")
    check("one frame", np.array_equal(frame, w[1, 3]), frame.shape)
train = eddy.run("stfno.train", {"dataset": sim["id"], "width": 6, "modes_x": 4, "modes_y": 4, "modes_t": 3, "t_latent": 6,
                                 "expansion": 2, "t_in": 6, "t_out": 6, "epochs": 2, "batch": 2, "val_fraction": 0.3,
                                 "seed": 7}, progress=False)
with result(train, "train") as f:
    check("stfno.train", f["val_rel_l2"].shape == (2,) and "model" in f, list(f))
pred = eddy.run("stfno.predict", {"model": train["id"], "refine": True, "refine_iterations": 3}, progress=False)
with result(pred, "pred") as f:
    check("stfno.predict", f["prediction"].attrs["dims"] == "sample,t,y,x" and np.isfinite(f["prediction"][()]).all())

# gp.solve: 1-D Poisson against its exact solution.
gp = eddy.run("gp.solve", {"pde": "poisson1d", "exact": "sin(6*x)", "n": 24, "iterations": 30, "seed": 5}, progress=False)
with result(gp, "gp") as f:
    check("gp.solve", f["u"].shape == f["u_exact"].shape and f["u"].attrs["dims"] == "x", f["u"].shape)

# unmix: a synthetic cube made here, uploaded as HDF5.
rng = np.random.default_rng(1)
m = 0.1 + rng.random((10, 3))
a = rng.dirichlet(np.ones(3), size=20).T
y = m @ a + 0.001 * rng.standard_normal((10, 20))
cube = os.path.join(work, "cube.h5")
with h5py.File(cube, "w") as f:
    f["Y"] = y
up = eddy.upload(cube)
check("upload", up["datasets"][0]["name"].strip("/") == "Y" and up["datasets"][0]["shape"] == [10, 20], up)
un = eddy.run("unmix", {"cube": up["id"], "variable": "Y", "endmembers": 3, "rows": 4, "cols": 5, "seed": 11,
                        "iterations": 30}, progress=False)
with result(un, "unmix") as f:
    ab = f["abundances"][()]
    check("unmix", ab.shape == (3, 4, 5) and f["endmembers"].shape == (10, 3), ab.shape)
    check("abundances via npy", np.array_equal(eddy.dataset(un["id"], "abundances", slice="2"), ab[2]))

# dcdm.train, then poisson.solve with the learned directions on a larger grid.
dc = eddy.run("dcdm.train", {"n": 16, "epochs": 1, "samples": 40, "batch": 10, "lanczos_steps": 60, "theta": 5,
                             "seed": 3}, progress=False)
with result(dc, "dcdm") as f:
    check("dcdm.train", "model" in f and np.isfinite(f["loss"][()]).all(), list(f))
ds = eddy.run("poisson.solve", {"n": 32, "scene": "smoke", "rhs": "random", "tol": 1e-4, "max_iter": 400,
                                "compare": ["cg", "dcdm"], "model": dc["id"]}, progress=False)
with result(ds, "dcdm-solve") as f:
    check("poisson.solve dcdm", "dcdm" in f["residual_history"] and "cg" in f["residual_history"], list(f))


def write_png(path, rgb):
    """An 8-bit RGB PNG of the array rgb (rows, cols, 3), with the standard library."""
    import struct
    import zlib
    h, w, _ = rgb.shape
    raw = b"".join(b"\x00" + rgb[y].astype(np.uint8).tobytes() for y in range(h))

    def chunk(tag, data):
        return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)

    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0)) +
                  chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


# walloc: a codec trained briefly on the built-in images, an image coded and decoded.
codec = eddy.run("walloc.train", {"builtin": True, "latent_channels": 12, "steps": 2, "seconds": 0, "crop": 32,
                                  "batch": 2, "val_every": 2, "decoder_channels": 8, "blocks": 1}, progress=False)
yy, xx = np.mgrid[0:64, 0:64]
picture = np.stack([4 * xx, 4 * yy, (xx * yy) % 256], axis=-1)
png = os.path.join(work, "picture.png")
write_png(png, picture)
enc = eddy.run("walloc.encode", {"model": codec["id"], "input": eddy.upload(png)["id"]}, progress=False)
check("walloc.encode", enc["result"]["metrics"]["psnr"] > 10, enc["result"]["metrics"])
wlc = os.path.join(work, "picture.wlc")
with open(wlc, "wb") as out:
    out.write(eddy.dataset(enc["id"], "bitstream").tobytes())
dec = eddy.run("walloc.decode", {"model": codec["id"], "bitstream": eddy.upload(wlc)["id"]}, progress=False)
# Decoding the bitstream gives exactly the pixels the encoder reported.
with result(dec, "decoded") as f:
    check("walloc.decode", np.array_equal(f["image"][()], eddy.dataset(enc["id"], "decoded")), f["image"].shape)

print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
