#!/usr/bin/env bash
# ST-FNO side by side: Eddy's solvers/stfno (float64) against the PyTorch
# reference network of stfno_torch.py (float32 and float64) on the CPU, for the
# shapes fno-mini and reference. Run it as `bench/run.sh stfno`.
#
# PyTorch is a benchmark-only dependency, never part of the product or of
# `make test`: when no Python interpreter can import torch, the script installs
# the distribution's python3-torch (root, or sudo without a password).
#
# Output: the `go test -bench` lines, the PyTorch result lines and a Markdown
# table of median seconds per step. Everything meant for the report starts with
# "Benchmark" or four spaces, the lines bench/run.sh keeps.
#
# Environment: PYTHON (interpreter with torch), BENCHTIME (go -benchtime,
# default 5x), TORCH_ITERS and TORCH_WARMUP (timed and untimed iterations,
# default 5 and 2), TORCH_THREADS (default 2, the cores the Go run uses).
set -uo pipefail
cd "$(dirname "$0")/../.."

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
  for dtype in float32 float64; do
    "$py" bench/stfno/stfno_torch.py --shape "$shape" --dtype "$dtype" \
      --threads "${TORCH_THREADS:-2}" --iters "${TORCH_ITERS:-5}" --warmup "${TORCH_WARMUP:-2}" \
      2>&1 | sed 's/^/    /' | tee -a "$pylog" || status=1
  done
done

# go_s NAME [UNIT]: seconds of the go benchmark NAME (its -GOMAXPROCS suffix
# dropped) from its metric UNIT (default ns/op), or "–".
go_s() {
  awk -v want="$1" -v unit="${2:-ns/op}" '
    $1 ~ /^Benchmark/ { name = $1; sub(/-[0-9]+$/, "", name)
      if (name == want) for (i = 2; i < NF; i++) if ($(i+1) == unit) { printf "%.3g", $i / 1e9; found = 1; exit } }
    END { if (!found) printf "–" }' "$golog"
}

# torch_s SHAPE DTYPE KEY: the value of KEY=… on the PyTorch line, or "–".
torch_s() {
  awk -v shape="$1" -v dtype="$2" -v key="$3" '
    $1 == "torch" && $2 == "stfno" && $3 == shape && $4 == dtype {
      for (i = 5; i <= NF; i++) if (index($i, key "=") == 1) { printf "%.3g", substr($i, length(key) + 2); found = 1; exit } }
    END { if (!found) printf "–" }' "$pylog"
}

# ratio A B: A/B to two significant digits, or "–".
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.2g", a / b; else printf "–" }'
}

echo
echo "    Median seconds per step (Eddy: go test ns/op over -benchtime ${BENCHTIME:-5x}; PyTorch: median of ${TORCH_ITERS:-5} after ${TORCH_WARMUP:-2} warm-up, ${TORCH_THREADS:-2} threads)."
echo
echo "    | shape | train: Eddy f64 | PyTorch f32 | PyTorch f64 | Eddy/PyTorch f64 | predict: Eddy f64 | PyTorch f32 | PyTorch f64 | Eddy/PyTorch f64 |"
echo "    |---|---|---|---|---|---|---|---|---|"
for shape in fno-mini reference; do
  et=$(go_s "BenchmarkTrainStep/$shape")
  ep=$(go_s "BenchmarkPredict/$shape")
  t32=$(torch_s "$shape" float32 train_step_s)
  t64=$(torch_s "$shape" float64 train_step_s)
  p32=$(torch_s "$shape" float32 predict_s)
  p64=$(torch_s "$shape" float64 predict_s)
  echo "    | $shape | $et | $t32 | $t64 | $(ratio "$et" "$t64") | $ep | $p32 | $p64 | $(ratio "$ep" "$p64") |"
done
echo
echo "    Spectral-Refiner iteration (Eddy only, fno-mini at 64²): $(go_s BenchmarkRefineIteration ns/iter) s."
exit $status
