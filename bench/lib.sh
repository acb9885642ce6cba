# shellcheck shell=bash
# Sourced by the bench/*.sh scripts, from the repository root: how aepipe's throughput is
# measured and parsed (one definition for all scripts), how the PyTorch peer is run, medians,
# the CPU's name and the PASS/FAIL lines.

# set -e also inside $(...): a helper that fails there must not hand back an empty figure.
shopt -s inherit_errexit

# The command that runs aepipe; device_sweep.sh points it at the bundle's binary and libraries.
AEPIPE=(build/aepipe)
FASHION=${FASHION:-/usr/share/datasets/fashion-mnist}
TORCH_AE=${TORCH_AE:-../shared/bench/torch_ae.py}

# OpenBLAS 0.3.21 misdetects these CPUs; SkylakeX kernels need AVX-512 (an AVX2-only CPU
# dies with SIGILL), so pick the best kernel set the CPU really has.
if grep -qw avx512f /proc/cpuinfo; then CORETYPE=SkylakeX
elif grep -q AuthenticAMD /proc/cpuinfo; then CORETYPE=Zen
else CORETYPE=Haswell; fi

# python3 with the peer's fair settings: the OpenBLAS kernels above, OpenMP threads that sleep.
torch_python() { OPENBLAS_CORETYPE=$CORETYPE OMP_WAIT_POLICY=passive /usr/bin/python3 "$@"; }

# Can the PyTorch peer run here? (torch_ae.py parses its flags before importing torch, so ask
# python itself.)
# Debian's PyTorch does its matmuls through libblas.so.3: without libopenblas0-pthread that is
# the reference BLAS, 20-40x slower (measured 1,211 samples/s at batch 64), and a ratio against
# it says nothing: no torch rows then.
torch_ready() {
  [[ -f $TORCH_AE ]] && torch_python -c 'import torch' >/dev/null 2>&1 || return 1
  dpkg-query -W -f='${Status}' libopenblas0-pthread 2>/dev/null | grep -q "install ok installed" && return 0
  echo "torch rows skipped: install libopenblas0-pthread (PyTorch would run on the reference BLAS)" >&2
  return 1
}

# The median of the numbers on stdin, one per line: the middle one, or the mean of the two
# middle ones, as `aepipe bench` takes its own. No numbers is an error.
median() {
  sort -g | awk '{v[NR] = $1}
    END {if (NR == 0) {print "median: no numbers" > "/dev/stderr"; exit 1}
         print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'
}

# aepipe run: the median over epochs FIRST.. (default 1) of train_samples_per_s in
# RUN/metrics.csv (the column found by its name).
aepipe_median_sps() {
  awk -F, -v first="${2:-1}" 'NR == 1 {for (i = 1; i <= NF; i++) if ($i == "train_samples_per_s") c = i; next}
                             c && $1 >= first {print $c}' "$1/metrics.csv" | median
}

# The newest run folder under $1 whose name starts with ${2:-anything} (aepipe run --out $1
# makes NAME-DATE-TIME/ there).
latest_run() { local runs=("$1/${2:-}"*/); echo "${runs[-1]%/}"; }

# DATA_ARGS: the overrides that point a config's readers (ids train_set, test_set) at the IDX
# files (images and labels, .gz) in folder $1, made absolute, so they name the same files from
# any folder.
data_overrides() {
  local d
  d=$(cd "$1" && pwd)
  # shellcheck disable=SC2034 # read by the sourcing script
  DATA_ARGS=("graph.nodes[train_set].images=$d/train-images-idx3-ubyte.gz" "graph.nodes[train_set].labels=$d/train-labels-idx1-ubyte.gz"
             "graph.nodes[test_set].images=$d/t10k-images-idx3-ubyte.gz" "graph.nodes[test_set].labels=$d/t10k-labels-idx1-ubyte.gz")
}

# The thread counts of a list such as "2 1 4" as bench's --threads takes them: 1,2,4.
thread_csv() { echo "$1" | tr -s ' ' '\n' | grep -v '^$' | sort -n -u | paste -sd, ; }

# The PyTorch peer: the median of its comma-separated `samples_per_s=a,b,... ` list in $1.
torch_median_sps() { echo "$1" | sed -n 's/.*samples_per_s=\([0-9.,]*\) .*/\1/p' | tr ',' '\n' | median; }

print_ratio() { awk -v a="$1" -v t="$2" 'BEGIN {printf "  throughput ratio aepipe/torch %.2fx\n", a / t}'; }

# One line naming the CPU, the cores this process may use and the features that matter here.
cpu_line() {
  local model isa
  model=$(sed -n '/^model name/{s/^[^:]*: *//p;q}' /proc/cpuinfo)
  isa=$(sed -n '/^flags/{p;q}' /proc/cpuinfo | tr ' ' '\n' |
        grep -x -E 'fma|avx2|avx512f|avx512_bf16|amx_bf16|amx_tile' | paste -sd' ' || true)
  echo "CPU: ${model:-unknown}, $(nproc) cores; ISA: ${isa:-no FMA/AVX2}"
}

# The kernel the FMA probe chose for this CPU, from an `aepipe bench` console log.
probe_isa() { sed -n '/^ *FMA probe at .*(.*)$/{s/.*(\(.*\))$/\1/p;q}' "$1"; }

# The cache-line round trip in ns between the first two CPUs (build/bench/aepipe_pingpong), or
# nothing when the tool or a second CPU is missing. At APART_NS and above, a VM's host has put
# the two vCPUs in different core complexes, where 2-thread training runs at about half speed
# (bench/README.md, fourth session); 50-70 ns is the usual shared-cache figure.
# shellcheck disable=SC2034 # read by the sourcing script
APART_NS=200
round_trip_ns() {
  [[ -x build/bench/aepipe_pingpong ]] || return 0
  build/bench/aepipe_pingpong --trips 50000 --rounds 3 2>/dev/null | sed -n 's/.*round_trip_ns=\([0-9]*\).*/\1/p' || true
}

# Steps of batch $2 that hold about $1 samples, at least ${3:-2}.
steps_for() { local s=$((($1 + $2 - 1) / $2)); echo $((s > ${3:-2} ? s : ${3:-2})); }

# The batch a config sets (train.batch).
config_batch() {
  local b
  b=$(sed -n '/^train:/,/^[a-z]/s/^ *batch: *\([0-9][0-9]*\).*/\1/p' "$1" | head -n 1)
  [[ -n $b ]] || { echo "$1: no train.batch found" >&2; return 1; }
  echo "$b"
}

# `aepipe bench ARGS...`, its console to LOG ($1); prints one line per thread count from its
# table (the median of the repeats):  threads samples/s speedup GFLOP/s %peak peak_GFLOP/s
# probe_speedup. Fails, naming LOG, when bench fails or prints no table with the limit columns.
bench_rows() {
  local log=$1; shift
  if ! "${AEPIPE[@]}" bench "$@" >"$log" 2>&1; then
    echo "aepipe bench failed (log: $log):" >&2; tail -n 5 "$log" >&2; return 1
  fi
  awk 'hdr && $1 ~ /^[0-9]+$/ && NF >= 10 {print $1, $2, $5, $7, $8 + 0, $9, $10; n++}
       /^ *threads +samples\/s .*GFLOP\/s.*peak speedup/ {hdr = 1}
       END {if (!n) {print "no aepipe bench table with GFLOP/s and peak speedup columns in " FILENAME > "/dev/stderr"
                     exit 1}}' "$log"
}

# The one throughput figure of the scaling scripts, per thread count, in bench_rows' columns.
#   measure_rows MEASURE DIR CONFIG THREADS_CSV STEPS WARMUP REPEATS [key=value ...]
# MEASURE bench: `aepipe bench` (steady-state steps after a warm-up, median of REPEATS runs;
# STEPS "epoch": bench's default window, each run's second epoch whole; WARMUP is then unused).
# MEASURE run: the median over epochs 2..REPEATS+1 of `aepipe run`'s train_samples_per_s, with
# bench (one repeat) still giving the FMA probe and the FLOPs per sample.
# Logs and run folders go under DIR.
measure_rows() {
  local measure=$1 dir=$2 config=$3 threads=$4 steps=$5 warmup=$6 repeats=$7; shift 7
  mkdir -p "$dir"
  local brep=$repeats
  [[ $measure == run ]] && brep=1
  local rows window=()
  [[ $steps != epoch ]] && window=(--steps "$steps" --warmup "$warmup")
  rows=$(bench_rows "$dir/bench.log" "$config" "$@" --threads "$threads" "${window[@]}" \
           --repeats "$brep" --out "$dir") || return 1
  [[ $measure == bench ]] && { echo "$rows"; return; }
  local t sps one="" fps  # FLOPs per sample, from bench's row with the most GFLOP/s (the least rounded)
  fps=$(echo "$rows" | awk '$4 > g {g = $4; f = $4 * 1e9 / $2} END {print f}')
  while read -r t _; do
    "${AEPIPE[@]}" run "$config" "$@" train.epochs=$((repeats + 1)) --threads "$t" --out "$dir/run-$t" -q \
      >"$dir/run-$t.log" 2>&1 || { echo "aepipe run failed (log: $dir/run-$t.log)" >&2; return 1; }
    sps=$(aepipe_median_sps "$(latest_run "$dir/run-$t")" 2) || return 1
    [[ $t == 1 ]] && one=$sps
    echo "$rows" | awk -v t="$t" -v r="$sps" -v one="$one" -v f="$fps" \
      '$1 == t {g = r * f / 1e9; printf "%s %.1f %.2f %.1f %.0f %s %s\n", t, r, r / one, g, 100 * g / $6, $6, $7}'
  done <<<"$rows"
}

# The options of scaling.sh and device_sweep.sh: --threads "1 2", --repeats N, --samples N
# (per timed run; 0: a whole epoch, bench's default window), --quick (1,000 samples, 1 repeat), --out DIR, into the globals of those
# names; USED: how many words the option took (0: not one of these).
# shellcheck disable=SC2034 # the globals are the calling script's
sweep_opt() {
  USED=2
  case "$1" in
    --threads) threads=${2:-} ;;
    --repeats) repeats=${2:-} ;;
    --samples) samples=${2:-} ;;
    --out) out=${2:-} ;;
    --quick) samples=1000 repeats=1 USED=1 ;;
    *) USED=0 ;;
  esac
}

# Are the sweep options well formed? (thread counts and repeats positive integers, samples 0 or more)
sweep_opts_ok() {
  [[ $threads =~ ^[\ ]*[1-9][0-9]*([\ ]+[1-9][0-9]*)*[\ ]*$ && $repeats =~ ^[1-9][0-9]*$ && $samples =~ ^[0-9]+$ ]]
}

# PASS when A >= B, FAIL when not, n/a when A is empty or n/a.
at_least() {
  awk -v a="$1" -v b="$2" 'BEGIN {print (a == "" || a == "n/a") ? "n/a" : (a + 0 >= b + 0) ? "PASS" : "FAIL"}'
}
