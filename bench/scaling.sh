#!/usr/bin/env bash
# Does the second core pay? Issue 14's scaling targets in one run, side by side on this machine:
# the CPU and its ISA, the FMA probe's peak at 1 and N threads (N: the largest of --threads) and
# its N/1 ratio, then real-training samples/s at each thread count for
#   configs/mnist_ae.yaml (its batch, 50), configs/fashion_mnist_ae.yaml at batch 64, 256, 1024,
#   configs/fashion_conv_ae.yaml (its batch, 50, and 256),
# each with GFLOP/s and % of the f32 FMA peak at that thread count, the N/1 speedup, the
# probe's N/1 speedup measured in the same bench, and speedup / probe speedup against its target
# (>= 0.85 at batch 64, >= 0.9 at 256 and 1024, >= 0.75 at the batch-50 defaults). Then
# fashion_mnist_ae at batch 256: >= 70% of the peak on 1 thread, >= 60% on N; and against
# ../shared/bench/torch_ae.py (the same model: ReLU hidden, sigmoid output, Xavier, Adam 1e-3,
# MSE) on N threads: >= 2.5x at batch 64, >= 2x at 256 (skipped when python3-torch is missing).
#
# The figure is `aepipe bench`'s median of --repeats runs: samples of the timed training steps
# over their time, the measure README's "samples/s" defines for aepipe run's per-epoch
# train_samples_per_s too; bench/agreement.sh checks that the two agree within 5%. By default
# each run times its second epoch whole, as a real run's epoch lines do: the evaluation of the
# first ran between the epochs (N threads: every core) or beside the steps on the free core
# (1 thread), so both counts time training alone; --samples N times about N samples after N/6
# of warm-up.
# --measure run takes run's per-epoch figures instead (median of epochs 2..repeats+1), should
# agreement.sh say they disagree. torch_ae.py times --samples samples (default 60,000, an
# epoch of Fashion-MNIST) after a sixth as many.
# A benchmark, not a test: run it on an otherwise idle machine. About 8 minutes on 2 cores.
#
#   bench/scaling.sh [--quick] [--threads "1 2"] [--repeats 3] [--samples 0]
#                    [--measure bench|run] [--only REGEX] [--baseline CSV] [--out DIR]
# --quick: 1,000 samples, 1 repeat (a smoke run: proves the script works, measures nothing).
# --baseline: an earlier run's scaling.csv (before a change): each row's 1-thread samples/s
# against it, >= 0.95x ("no regression at 1 thread", within the 5% that agreement.sh allows).
# --only: the rows whose label matches (e.g. 'fashion-b(64|256)'); the torch rows go with them.
# DIR (default runs/scaling-DATE-TIME) gets scaling.csv (every figure), summary.txt (the final
# tables), and per row its aepipe bench/run folders and console logs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=bench/lib.sh
source bench/lib.sh

threads="1 2" repeats=3 samples=0 measure=bench only=. baseline="" out=""
usage() {
  echo "usage: $0 [--quick] [--threads \"1 2\"] [--repeats N] [--samples N] [--measure bench|run] [--only REGEX] [--baseline CSV] [--out DIR]" >&2
  exit 2
}
while [[ $# -gt 0 ]]; do
  case "$1" in
    --measure) measure=${2:-}; shift 2 ;;
    --only) only=${2:-}; shift 2 ;;
    --baseline) baseline=${2:-}; shift 2 ;;
    *) sweep_opt "$@"; ((USED)) || usage; shift "$USED" ;;
  esac
done
[[ $measure == bench || $measure == run ]] || usage
[[ -z $baseline || -f $baseline ]] || { echo "--baseline: no file '$baseline' (an earlier run's scaling.csv)" >&2; exit 2; }
sweep_opts_ok || usage
[[ -x ${AEPIPE[0]} ]] || { echo "missing ${AEPIPE[0]} (build it: scripts/setup.sh)" >&2; exit 1; }
out=${out:-runs/scaling-$(date +%Y%m%d-%H%M%S)}
timed="the second epoch"
((samples > 0)) && timed="~$samples samples"
mkdir -p "$out"
tcsv=$(thread_csv "$threads")
N=${tcsv##*,}   # the largest count: speedups are N threads over 1
[[ $N != 1 ]] || { echo "--threads needs a count above 1" >&2; exit 2; }

# label config batch(default: the config's) target(speedup / probe speedup)
ROWS=(
  "mnist_ae-b50   configs/mnist_ae.yaml         default 0.75"
  "fashion-b64    configs/fashion_mnist_ae.yaml 64      0.85"
  "fashion-b256   configs/fashion_mnist_ae.yaml 256     0.90"
  "fashion-b1024  configs/fashion_mnist_ae.yaml 1024    0.90"
  "conv-b50       configs/fashion_conv_ae.yaml  default 0.75"
  "conv-b256      configs/fashion_conv_ae.yaml  256     0.90"
)
declare -A SPS GF PCT PEAK PSPD TARGET BATCH
LABELS=()
CSV=$out/scaling.csv
echo "row,config,batch,threads,measure,samples_per_s,speedup,gflops,pct_peak,peak_gflops,probe_speedup" >"$CSV"

# measure_row LABEL CONFIG BATCH TARGET: every thread count of one row into the tables and the CSV.
measure_row() {
  local label=$1 config=$2 batch=$3 target=$4 t sps speed gf pct peak pspd
  [[ $batch == default ]] && batch=$(config_batch "$config")
  local rows
  local steps=epoch warm=0
  ((samples > 0)) && steps=$(steps_for "$samples" "$batch") warm=$(steps_for $((samples / 6)) "$batch" 1)
  rows=$(measure_rows "$measure" "$out/$label" "$config" "$tcsv" "$steps" "$warm" "$repeats" "train.batch=$batch")
  LABELS+=("$label") BATCH[$label]=$batch TARGET[$label]=$target
  while read -r t sps speed gf pct peak pspd; do
    SPS[$label,$t]=$sps GF[$label,$t]=$gf PCT[$label,$t]=$pct PEAK[$label,$t]=$peak PSPD[$label,$t]=$pspd
    echo "$label,$config,$batch,$t,$measure,$sps,$speed,$gf,$pct,$peak,$pspd" >>"$CSV"
    printf '  %-14s batch %5s  %2s threads  %10.0f samples/s  %7.1f GFLOP/s  %4.0f%% of peak\n' \
      "$label" "$batch" "$t" "$sps" "$gf" "$pct"
  done <<<"$rows"
}

# torch_row BATCH: torch_ae.py with fashion_mnist_ae.yaml's model on N threads; its median.
torch_row() {
  local batch=$1 steps warm log=$out/torch-b$1.log n=$samples
  ((n > 0)) || n=60000  # aepipe's window: an epoch of Fashion-MNIST
  steps=$(steps_for "$n" "$batch") warm=$(steps_for $((n / 6)) "$batch" 1)
  torch_python "$TORCH_AE" --data "$FASHION" --batch "$batch" --threads "$N" --epochs "$repeats" \
    --max-batches $((steps + warm)) --warmup "$warm" --infer-reps 0 \
    --hidden relu --last sigmoid --init xavier --optimizer adam >"$log" 2>&1 ||
    { echo "torch_ae.py failed (log: $log)" >&2; tail -n 5 "$log" >&2; return 1; }
  torch_median_sps "$(cat "$log")"
}

# The final tables: per thread count, then the targets.
report() {
  local label t b tl=() pk
  IFS=, read -r -a tl <<<"$tcsv"
  echo
  echo "== bench/scaling.sh: measure $measure, median of $repeats, $timed per timed run =="
  cpu_line
  printf 'FMA probe (%s kernel; median over the rows):' "$(probe_isa "$out/${LABELS[0]}/bench.log")"
  for t in "${tl[@]}"; do
    pk=$(for label in "${LABELS[@]}"; do echo "${PEAK[$label,$t]}"; done | median)
    printf ' %s thr %.1f GFLOP/s;' "$t" "$pk"
  done
  printf ' probe speedup %s/1: %.2fx\n' "$N" "$(for label in "${LABELS[@]}"; do echo "${PSPD[$label,$N]}"; done | median)"
  printf '\n%-14s %6s' row batch
  for t in "${tl[@]}"; do printf ' %11s %8s %6s' "sps@$t" "GF/s@$t" "%pk@$t"; done
  echo
  for label in "${LABELS[@]}"; do
    printf '%-14s %6s' "$label" "${BATCH[$label]}"
    for t in "${tl[@]}"; do printf ' %11.0f %8.1f %5.0f%%' "${SPS[$label,$t]}" "${GF[$label,$t]}" "${PCT[$label,$t]}"; done
    echo
  done
  printf '\n%-14s %9s %9s %9s %8s  %s\n' row "speedup" "probe" "ratio" "target" "verdict ($N threads over 1)"
  for label in "${LABELS[@]}"; do
    awk -v l="$label" -v a="${SPS[$label,1]}" -v b="${SPS[$label,$N]}" -v p="${PSPD[$label,$N]}" -v g="${TARGET[$label]}" \
      'BEGIN {s = b / a; r = s / p; printf "%-14s %8.2fx %8.2fx %9.2f %7s  %s\n", l, s, p, r, ">= " g, (r >= g) ? "PASS" : "FAIL"}'
  done
  echo
  if [[ -n ${PCT[fashion-b256,1]:-} ]]; then
    printf '%-40s %6s%%   >= 70%%  %s\n' "fashion-b256 % of peak on 1 thread" "${PCT[fashion-b256,1]}" "$(at_least "${PCT[fashion-b256,1]}" 70)"
    printf '%-40s %6s%%   >= 60%%  %s\n' "fashion-b256 % of peak on $N threads" "${PCT[fashion-b256,$N]}" "$(at_least "${PCT[fashion-b256,$N]}" 60)"
  fi
  for b in 64 256; do
    [[ -n ${TORCH[$b]:-} ]] || continue
    local goal=2.5 ratio=n/a why=""
    [[ $b == 256 ]] && goal=2
    if [[ ${TORCH[$b]} == n/a ]]; then why="; skipped: no python3-torch, no libopenblas0-pthread or no $TORCH_AE"
    elif [[ ${TORCH[$b]} == failed ]]; then why="; see $out/torch-b$b.log"
    else ratio=$(awk -v a="${SPS[fashion-b$b,$N]}" -v t="${TORCH[$b]}" 'BEGIN {printf "%.2fx", a / t}'); fi
    printf '%-40s %7s  >= %sx  %s  (aepipe %.0f, torch_ae.py %s samples/s%s)\n' "fashion-b$b vs torch_ae.py, $N threads" \
      "$ratio" "$goal" "$(at_least "${ratio%x}" "$goal")" "${SPS[fashion-b$b,$N]}" "${TORCH[$b]}" "$why"
  done
}

# No regression at 1 thread: each row against --baseline's, and the N-thread change beside it.
baseline_report() {
  local label t old=() ratio=()
  echo
  for label in "${LABELS[@]}"; do
    for t in 1 "$N"; do
      old[t]=$(awk -F, -v l="$label" -v t="$t" '$1 == l && $4 == t && $5 != "torch" {print $6}' "$baseline")
      ratio[t]=$(awk -v a="${SPS[$label,$t]}" -v b="${old[t]}" 'BEGIN {print (b > 0) ? sprintf("%.2fx", a / b) : "n/a"}')
    done
    printf '%-40s %7s  >= 0.95x  %s  (%.0f vs %s samples/s; %s threads: %s)\n' "$label 1 thread vs baseline" "${ratio[1]}" \
      "$(at_least "${ratio[1]%x}" 0.95)" "${SPS[$label,1]}" "${old[1]:-none}" "$N" "${ratio[N]}"
  done
}

echo "$(cpu_line); measure: $measure, $repeats repeat(s), $timed per timed run; out: $out"
for row in "${ROWS[@]}"; do
  read -r label config batch target <<<"$row"
  # (an if, not &&: set -e stays on inside measure_row)
  if [[ $label =~ $only ]]; then measure_row "$label" "$config" "$batch" "$target"; fi
done
[[ ${#LABELS[@]} -gt 0 ]] || { echo "--only '$only' matches no row" >&2; exit 2; }
declare -A TORCH
for b in 64 256; do
  [[ -n ${SPS[fashion-b$b,$N]:-} ]] || continue
  TORCH[$b]=n/a
  if torch_ready; then TORCH[$b]=$(torch_row "$b") || TORCH[$b]=failed; fi
  echo "fashion-b$b,torch_ae.py,$b,$N,torch,${TORCH[$b]},,,,," >>"$CSV"
done
{
  report
  [[ -z $baseline ]] || baseline_report
} | tee "$out/summary.txt"
