"""A small Python client of the Eddy solver service.

Standard library only for HTTP; numpy to read datasets as arrays and h5py to
open results are imported when those methods are used.

    from eddy_client import Client
    eddy = Client("http://127.0.0.1:8080")            # token="..." when the API has tokens
    job = eddy.run("poisson.solve", {"dim": 2, "n": 128})   # submit, wait with progress
    u = eddy.dataset(job["id"], "solution")           # numpy array, read via .npy
    row = eddy.dataset(job["id"], "solution", slice="64,:")  # one row only
    with eddy.open(job["id"]) as f:                   # the whole HDF5 result, with h5py
        print(f["solution"].attrs["dims"], f["metrics"].attrs["iterations"])

Errors of the API raise EddyError, whose ``errors`` lists the failing fields
as ``{"path": "/params/n", "message": ...}``; a job that fails or is
cancelled raises JobFailed from ``wait``.
"""

import hashlib
import io
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

__all__ = ["Client", "EddyError", "JobFailed"]

FINAL = ("succeeded", "failed", "cancelled")


class EddyError(Exception):
    """An error answer of the API (an RFC 9457 problem document)."""

    def __init__(self, status, problem):
        self.status = status
        self.problem = problem or {}
        self.errors = self.problem.get("errors") or []
        detail = self.problem.get("detail") or self.problem.get("title") or "HTTP %d" % status
        super().__init__("%d: %s" % (status, detail))


class JobFailed(Exception):
    """A waited-for job ended failed or cancelled; ``job`` is its JSON."""

    def __init__(self, job):
        self.job = job
        super().__init__("job %s ended %s%s" % (job["id"], job["state"], ": " + job["error"] if job.get("error") else ""))


class Client:
    """A client of one Eddy server."""

    def __init__(self, base="http://127.0.0.1:8080", token=None, timeout=120):
        self.base = base.rstrip("/")
        self.token = token if token is not None else os.environ.get("EDDY_TOKEN") or None
        self.timeout = timeout

    # -- plumbing -------------------------------------------------------------

    def _request(self, method, path, body=None, content_type=None, accept="application/json", timeout=None):
        req = urllib.request.Request(self.base + path, data=body, method=method)
        if content_type:
            req.add_header("Content-Type", content_type)
        req.add_header("Accept", accept)
        req.add_header("User-Agent", "eddy-python")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            return urllib.request.urlopen(req, timeout=timeout or self.timeout)
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                problem = json.loads(raw)
            except ValueError:
                problem = {"detail": raw.decode("utf-8", "replace")[:500]}
            raise EddyError(e.code, problem) from None

    def _json(self, method, path, payload=None):
        body = None if payload is None else json.dumps(payload).encode()
        with self._request(method, path, body, "application/json" if body else None) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    @staticmethod
    def _q(name):
        """Escapes a dataset or plot name for a URL path, keeping its slashes."""
        return "/".join(urllib.parse.quote(p, safe="") for p in name.split("/"))

    # -- kinds and jobs -------------------------------------------------------

    def kinds(self):
        """Every job kind: name, title, description, params_schema (JSON Schema), outputs, metrics."""
        return self._json("GET", "/v1/kinds")["kinds"]

    def submit(self, kind, params=None, idempotency_key=None):
        """Submits a job and returns its JSON (state queued)."""
        req = {"kind": kind, "params": params or {}}
        if idempotency_key:
            req["idempotency_key"] = idempotency_key
        return self._json("POST", "/v1/jobs", req)

    def job(self, job_id):
        return self._json("GET", "/v1/jobs/" + urllib.parse.quote(job_id, safe=""))

    def jobs(self, kind=None, state=None, limit=50):
        """The newest jobs, optionally of one kind or state (one page)."""
        q = {"limit": limit}
        if kind:
            q["kind"] = kind
        if state:
            q["state"] = state
        return self._json("GET", "/v1/jobs?" + urllib.parse.urlencode(q))["jobs"]

    def cancel(self, job_id):
        return self._json("POST", "/v1/jobs/%s/cancel" % urllib.parse.quote(job_id, safe=""))

    def wait(self, job_id, progress=True, timeout=None):
        """Follows a job until it ends and returns its JSON; raises JobFailed
        unless it succeeded. progress is True (a line on stderr per change),
        False, or a function called with the job's JSON at each change. The
        job's event stream drives it; if the stream breaks, it polls."""
        report = progress if callable(progress) else (_print_progress if progress else (lambda j: None))
        deadline = None if timeout is None else time.monotonic() + timeout
        job = None
        try:
            with self._request("GET", "/v1/jobs/%s/events" % urllib.parse.quote(job_id, safe=""),
                               accept="text/event-stream", timeout=timeout or 3600) as r:
                data = []
                for raw in r:
                    line = raw.decode("utf-8").rstrip("\r\n")
                    if line.startswith("data:"):
                        data.append(line[5:].strip())
                    elif line == "" and data:
                        job = json.loads("".join(data))
                        data = []
                        report(job)
                        if job["state"] in FINAL:
                            break
                    if deadline is not None and time.monotonic() > deadline:
                        raise TimeoutError("job %s not final after %s s" % (job_id, timeout))
        except (OSError, ValueError) as e:  # the stream broke: poll
            if isinstance(e, TimeoutError):
                raise
        while job is None or job["state"] not in FINAL:
            if deadline is not None and time.monotonic() > deadline:
                raise TimeoutError("job %s not final after %s s" % (job_id, timeout))
            time.sleep(0.5)
            job = self.job(job_id)
            report(job)
        if progress is True:
            sys.stderr.write("\n")
        if job["state"] != "succeeded":
            raise JobFailed(job)
        return job

    def run(self, kind, params=None, progress=True, timeout=None):
        """Submits a job and waits for it (see wait)."""
        return self.wait(self.submit(kind, params)["id"], progress=progress, timeout=timeout)

    # -- results --------------------------------------------------------------

    def download(self, job_id, path=None):
        """Downloads a succeeded job's HDF5 result to path (default
        <id>.h5), checks its SHA-256, and returns the path."""
        path = path or job_id + ".h5"
        h = hashlib.sha256()
        tmp = path + ".part"
        with self._request("GET", "/v1/jobs/%s/result" % urllib.parse.quote(job_id, safe=""),
                           accept="application/x-hdf5", timeout=3600) as r, open(tmp, "wb") as f:
            want = r.headers.get("X-Content-SHA256")
            while True:
                chunk = r.read(1 << 20)
                if not chunk:
                    break
                h.update(chunk)
                f.write(chunk)
        if want and h.hexdigest() != want:
            os.remove(tmp)
            raise IOError("download of %s: SHA-256 %s, the server announced %s" % (job_id, h.hexdigest(), want))
        os.replace(tmp, path)
        return path

    def open(self, job_id, path=None):
        """Downloads a job's result (unless path already holds it) and opens
        it read-only with h5py."""
        import h5py

        path = path or job_id + ".h5"
        if not os.path.exists(path):
            self.download(job_id, path)
        return h5py.File(path, "r")

    def dataset_npy(self, job_id, name, slice=None):
        """The raw .npy bytes of a dataset or hyperslab, with the response
        headers (X-Eddy-Dims, X-Eddy-Units)."""
        q = "?" + urllib.parse.urlencode({"slice": slice}) if slice else ""
        with self._request("GET", "/v1/jobs/%s/datasets/%s%s" % (urllib.parse.quote(job_id, safe=""), self._q(name), q),
                           accept="application/x-npy") as r:
            return r.read(), dict(r.headers)

    def dataset(self, job_id, name, slice=None, with_attrs=False):
        """One dataset of a succeeded job's result as a numpy array, read
        through the .npy endpoint: only the selection crosses the network.
        slice is numpy-style text, one entry per leading axis ("0,10:20,:",
        "-1", "::2"). With with_attrs, returns (array, {"dims": [...], "units": ...})."""
        import numpy as np

        raw, headers = self.dataset_npy(job_id, name, slice)
        arr = np.load(io.BytesIO(raw), allow_pickle=False)
        if not with_attrs:
            return arr
        dims = headers.get("X-Eddy-Dims", "")
        return arr, {"dims": dims.split(",") if dims else [], "units": headers.get("X-Eddy-Units", "")}

    def datasets(self, job_id):
        """The datasets of a result: name, shape, dtype, dims, units, url."""
        return self._json("GET", "/v1/jobs/%s/datasets" % urllib.parse.quote(job_id, safe=""))["datasets"]

    def plots(self, job_id):
        """The plots the server draws for a result: name, url, kind, title, selectors."""
        return self._json("GET", "/v1/jobs/%s/plots" % urllib.parse.quote(job_id, safe=""))["plots"]

    def plot(self, job_id, name, path=None, format="png", **index):
        """Writes a server-rendered plot (PNG or SVG) to path and returns it;
        index chooses positions on the plot's selector axes (sample=1, t=4)."""
        q = dict(index, format=format)
        path = path or "%s_%s.%s" % (job_id, name.replace("/", "_"), format)
        with self._request("GET", "/v1/jobs/%s/plots/%s?%s" % (urllib.parse.quote(job_id, safe=""), self._q(name), urllib.parse.urlencode(q)),
                           accept="image/*") as r, open(path, "wb") as f:
            f.write(r.read())
        return path

    # -- uploads --------------------------------------------------------------

    def upload(self, path):
        """Uploads a file (HDF5, MAT v5, ENVI tar) as multipart field "file";
        returns the upload's JSON, whose id is usable as a job input."""
        boundary = uuid.uuid4().hex
        with open(path, "rb") as f:
            content = f.read()
        name = os.path.basename(path).replace('"', "")
        body = b"".join([
            b"--" + boundary.encode() + b"\r\n",
            b'Content-Disposition: form-data; name="file"; filename="' + name.encode() + b'"\r\n',
            b"Content-Type: application/octet-stream\r\n\r\n", content, b"\r\n",
            b"--" + boundary.encode() + b"--\r\n"])
        with self._request("POST", "/v1/uploads", body, "multipart/form-data; boundary=" + boundary, timeout=3600) as r:
            return json.loads(r.read())


def _print_progress(job):
    p = job.get("progress") or {}
    frac = p.get("fraction") or (1.0 if job["state"] == "succeeded" else 0.0)
    bar = "#" * int(30 * frac)
    sys.stderr.write("\r%s %-9s [%-30s] %3d%% %s" % (job["id"][:8], job["state"], bar, round(100 * frac), (p.get("message") or "")[:40]))
    sys.stderr.flush()
