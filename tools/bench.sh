#!/usr/bin/env bash
# The main job: builds tessera's benchmarks, runs every bench_<module> side by side with its
# peers, prints the peer/tessera ratio table, writes a report (Markdown + PNG charts) and runs
# the showcase example. Installs what is missing first.
#   tools/bench.sh                  full run (a few minutes on 2 cores)
#   TESSERA_QUICK=1 tools/bench.sh  quick run (fewer repetitions, smaller sizes; used by CI)
set -euo pipefail
cd "$(dirname "$0")/.."
# ccache: hash paths relative to the checkout, so a fresh clone elsewhere reuses the cache.
export CCACHE_BASEDIR="$PWD" CCACHE_NOHASHDIR=true

quick=${TESSERA_QUICK:-0}
build=build/release
out=$build/bench
report=$build/report
steps=7
step() { printf '\n[tessera %d/%d] %s\n' "$1" "$steps" "$2"; }

step 1 "installing missing dependencies (if any)"
bash cmake/install_deps.sh

step 2 "configuring and building benchmarks and the showcase (release preset)"
cmake --preset release >/dev/null
cmake --build --preset release --target benchmarks showcase

step 3 "running benchmarks$([[ $quick == 1 ]] && echo ' (quick mode)')"
rm -rf "$out" && mkdir -p "$out"
if [[ $quick == 1 ]]; then
  bench_args=(--benchmark_repetitions=1 --benchmark_min_time=0.01)
else
  # Nine short repetitions rather than five long ones: this kind of machine (a shared VM) changes
  # speed for seconds at a time, and more samples keep one slow stretch from moving a median.
  bench_args=(--benchmark_repetitions=9 --benchmark_min_time=0.1 --benchmark_enable_random_interleaving=true)
fi
# Benchmarks shrink their inputs only when TESSERA_QUICK is exactly 1.
if [[ $quick == 1 ]]; then export TESSERA_QUICK=1; else unset TESSERA_QUICK; fi
mapfile -t benches < <(find "$build/benchmarks" -maxdepth 2 -type f -name 'bench_*' -perm -u+x | sort)
i=0
for b in "${benches[@]}"; do
  i=$((i + 1))
  name=$(basename "$b")
  echo "  ($i/${#benches[@]}) $name"
  "$b" "${bench_args[@]}" --benchmark_out="$out/$name.json" --benchmark_out_format=json >"$out/$name.txt"
done

step 4 "peer/tessera ratios (> 1 means tessera is faster; medians of the repetitions)"
python3 tools/bench_ratio.py "$out"/bench_*.json | tee "$out/ratios.txt"

step 5 "cache miss ratios: cachesim replays the shared traces through every eviction policy"
traces=../shared/traces
extra=()
if [[ -f $traces/zipf_1.0.txt && -f $traces/cloudPhysicsIO.oracleGeneral.bin ]]; then
  sim=$build/benchmarks/cache/cachesim
  {
    "$sim" --trace "$traces/zipf_1.0.txt" --format txt --policy all --capacity 10,50,100,500 --json
    "$sim" --trace "$traces/cloudPhysicsIO.oracleGeneral.bin" --format oracle_general \
      --policy all --capacity 50,500,2500,5000,10000 --json
  } >"$out/cachesim.jsonl"
  default=$("$sim" --help 2>&1 | sed -n 's/.*(default: \([a-z0-9_]*\)).*/\1/p')
  python3 tools/cachesim_table.py "$out/cachesim.jsonl" --default "$default" | tee "$out/missratios.md"
  extra=(--extra "$out/missratios.md")
else
  echo "  skipped: the shared traces are not at $traces (see benchmarks/cache/README.md)"
fi

step 6 "writing the report"
/usr/bin/python3 tools/report.py --results "$out" --targets benchmarks/targets.txt --out "$report" "${extra[@]}"

step 7 "running the showcase example"
"$build/examples/showcase/showcase"

echo
echo "tessera: report written to $report/report.md (charts beside it); raw JSON in $out/"
