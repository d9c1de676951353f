#!/usr/bin/env bash
# ST-FNO side by side: Eddy's solvers/stfno (float64) against the PyTorch
# reference network of stfno_torch.py (float32 and float64) on the CPU, for the
# shapes fno-mini and reference. Run it as `bench/run.sh stfno`.
#
# PyTorch is a benchmark-only dependency, never part of the product or of
# `make test`: when no Python interpreter can import torch, the script installs
# the distribution's python3-torch (root, or sudo without a password).
#
# PyTorch runs twice per shape and dtype: impl=plain uses the kernels of the
# authors' code (nn.Conv3d 1×1×1, complex einsum), impl=tuned the same maps as
# real batched GEMMs.
#
# Output: the `go test -bench` lines, the PyTorch result lines and Markdown
# tables of seconds per training step and per prediction. Everything meant for the report starts with
# "Benchmark" or four spaces, the lines bench/run.sh keeps.
#
# `compare.sh --tables FILE` renders the tables again from the benchmark lines
# kept in FILE (a report of bench/run.sh), without running anything.
#
# Environment: PYTHON (interpreter with torch), BENCHTIME (go -benchtime,
# default 5x), TORCH_ITERS and TORCH_WARMUP (timed and untimed iterations,
# default 3 and 1), TORCH_THREADS (default 2, the cores the Go run uses).
set -uo pipefail
here=$PWD
cd "$(dirname "$0")/../.."

# go_s NAME [UNIT [SCALE]]: seconds of the go benchmark NAME (its -GOMAXPROCS
# suffix dropped) from its metric UNIT (default ns/op) times SCALE (default
# 1e-9), or "–".
go_s() {
  awk -v want="$1" -v unit="${2:-ns/op}" -v scale="${3:-1e-9}" '
    $1 ~ /^Benchmark/ { name = $1; sub(/-[0-9]+$/, "", name)
      if (name == want) for (i = 2; i < NF; i++) if ($(i+1) == unit) { printf "%.3g", $i * scale; found = 1; exit } }
    END { if (!found) printf "–" }' "$golog"
}

# torch_s SHAPE DTYPE IMPL KEY: the value of KEY=… on the PyTorch line, or "–".
torch_s() {
  awk -v shape="$1" -v dtype="$2" -v impl="impl=$3" -v key="$4" '
    $1 == "torch" && $2 == "stfno" && $3 == shape && $4 == dtype {
      v = ""; ok = 0
      for (i = 5; i <= NF; i++) {
        if ($i == impl) ok = 1
        if (index($i, key "=") == 1) v = substr($i, length(key) + 2)
      }
      if (ok && v != "") { printf "%.3g", v; found = 1; exit } }
    END { if (!found) printf "–" }' "$pylog"
}

# ratio A B: A/B to two significant digits, or "–".
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2g", a / b; else printf "–" }'
}

# table TITLE GO_BENCH KEY [GO_UNIT GO_SCALE]: one Markdown table.
table() {
  local shape e p32 p64 t32 t64
  echo
  echo "    $1"
  echo
  echo "    | shape | Eddy f64 | PyTorch plain f32 | plain f64 | tuned f32 | tuned f64 | Eddy / plain f64 | Eddy / tuned f64 |"
  echo "    |---|---|---|---|---|---|---|---|"
  for shape in fno-mini reference; do
    e=$(go_s "$2/$shape" "${4:-ns/op}" "${5:-1e-9}")
    p32=$(torch_s "$shape" float32 plain "$3")
    p64=$(torch_s "$shape" float64 plain "$3")
    t32=$(torch_s "$shape" float32 tuned "$3")
    t64=$(torch_s "$shape" float64 tuned "$3")
    echo "    | $shape | $e | $p32 | $p64 | $t32 | $t64 | $(ratio "$e" "$p64") | $(ratio "$e" "$t64") |"
  done
}

tables() {
  how="PyTorch: median of ${TORCH_ITERS:-3} after ${TORCH_WARMUP:-1} warm-up, ${TORCH_THREADS:-2} threads; Eddy: go test -benchtime ${BENCHTIME:-5x}, $(nproc) cores"
  table "Wall seconds per training step (forward, relative L2 loss, backward, Adam); $how." \
    BenchmarkTrainStep train_step_s
  table "Wall seconds per prediction (forward only); $how." BenchmarkPredict predict_s
  # CPU seconds (all threads) are the steadier figure when the machine is shared.
  table "CPU seconds per training step, all threads; $how." \
    BenchmarkTrainStep train_step_cpu_s cpu-ms/op 1e-3
  table "CPU seconds per prediction, all threads; $how." BenchmarkPredict predict_cpu_s cpu-ms/op 1e-3
  echo
  echo "    Spectral-Refiner iteration (Eddy only, fno-mini at 64²): $(go_s BenchmarkRefineIteration ns/iter) s."
}

if [ "${1:-}" = "--tables" ]; then
  f=$2
  [[ $f = /* ]] || f=$here/$f
  golog=$f pylog=$f
  tables
  exit 0
fi

find_python() {
  local py
  for py in ${PYTHON:-} python3 /usr/bin/python3; do
    if "$py" -c 'import torch' 2>/dev/null; then
      echo "$py"
      return 0
    fi
  done
  return 1
}

install_torch() {
  echo "installing python3-torch (benchmark-only dependency)" >&2
  local sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo -n)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get install -y python3-torch >&2 ||
    { "${sudo[@]}" apt-get update >&2 && "${sudo[@]}" apt-get install -y python3-torch >&2; }
}

py=$(find_python) || { install_torch; py=$(find_python); } ||
  { echo "stfno: PyTorch is not available" >&2; exit 1; }

golog=$(mktemp)
pylog=$(mktemp)
trap 'rm -f "$golog" "$pylog"' EXIT
status=0

go test -run '^$' -bench 'BenchmarkTrainStep|BenchmarkPredict|BenchmarkRefineIteration' \
  -benchtime "${BENCHTIME:-5x}" -timeout 60m ./solvers/stfno/ 2>&1 | tee "$golog" || status=1

"$py" -c 'import sys, torch; print("    PyTorch", torch.__version__, "on Python", sys.version.split()[0])' || status=1
for shape in fno-mini reference; do
  for impl in plain tuned; do
    for dtype in float32 float64; do
      "$py" bench/stfno/stfno_torch.py --shape "$shape" --dtype "$dtype" --impl "$impl" \
        --threads "${TORCH_THREADS:-2}" --iters "${TORCH_ITERS:-3}" --warmup "${TORCH_WARMUP:-1}" \
        2>&1 | sed 's/^/    /' | tee -a "$pylog" || status=1
    done
  done
done

tables
exit $status
