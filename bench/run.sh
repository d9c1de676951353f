#!/usr/bin/env bash
# Runs Eddy's benchmarks and writes one Markdown report per topic to bench/results/.
#   bench/run.sh            every topic
#   bench/run.sh platform   one topic
# Each report records the machine, the date and the exact command, then the raw
# `go test -bench` output (benchstat-compatible).
set -euo pipefail
cd "$(dirname "$0")/.."
export EDDY_LONG=1
out=bench/results
mkdir -p "$out"

declare -A topics=(
  [platform]="go test -run ^$ -bench . -benchtime 1x -timeout 30m ./e2e/"
)
# Topics of the numerical packages register themselves in bench/topics.d/*.sh as
#   topics[name]="command"
for f in bench/topics.d/*.sh; do
  [ -e "$f" ] && source "$f"
done

selected=("$@")
[ ${#selected[@]} -eq 0 ] && selected=($(printf '%s\n' "${!topics[@]}" | sort))

machine() {
  echo "- machine: $(uname -srm), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "- Go: $(go version | cut -d' ' -f3-)"
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
}

for t in "${selected[@]}"; do
  cmd=${topics[$t]:-}
  if [ -z "$cmd" ]; then echo "unknown topic $t (have: ${!topics[*]})" >&2; exit 2; fi
  echo "== $t: $cmd" >&2
  log=$(mktemp)
  if ! bash -c "$cmd" 2>&1 | tee "$log" >&2; then echo "benchmark $t failed" >&2; fi
  {
    echo "# Benchmarks: $t"
    echo
    machine
    echo "- command: \`$cmd\`"
    echo "- load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
    echo
    echo '```'
    # Benchmark lines, and the tables benchmarks print with b.Log (indented).
    grep -E '^(goos|goarch|pkg|cpu|Benchmark|ok|PASS|FAIL|--- |    )' "$log" || true
    echo '```'
    # Plots the topic's benchmarks drew next to the report (<topic>-*.png).
    for p in "$out/$t"-*.png; do
      if [ -e "$p" ]; then printf '\n![%s](%s)\n' "$(basename "$p" .png)" "$(basename "$p")"; fi
    done
  } > "$out/$t.md"
  rm -f "$log"
done
