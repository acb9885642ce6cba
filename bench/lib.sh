# Shared by bench/{quality,vae,conv}_vs_torch.sh (sourced): how the PyTorch peer is run and how
# both sides' per-epoch samples/s become one figure and a ratio.

# OpenBLAS 0.3.21 misdetects these CPUs; SkylakeX kernels need AVX-512 (an AVX2-only CPU
# dies with SIGILL), so pick the best kernel set the CPU really has.
if grep -qw avx512f /proc/cpuinfo; then CORETYPE=SkylakeX
elif grep -q AuthenticAMD /proc/cpuinfo; then CORETYPE=Zen
else CORETYPE=Haswell; fi

# python3 with the peer's fair settings: the OpenBLAS kernels above, OpenMP threads that sleep.
torch_python() { OPENBLAS_CORETYPE=$CORETYPE OMP_WAIT_POLICY=passive /usr/bin/python3 "$@"; }

# The median of the numbers on stdin, one per line (the lower middle one for an even count).
median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# aepipe: the median over epochs of train_samples_per_s in RUN/metrics.csv.
aepipe_median_sps() { tail -n +2 "$1/metrics.csv" | cut -d, -f6 | median; }

# The PyTorch peer: the median of its comma-separated `samples_per_s=a,b,... ` list in $1.
torch_median_sps() { echo "$1" | sed -n 's/.*samples_per_s=\([0-9.,]*\) .*/\1/p' | tr ',' '\n' | median; }

print_ratio() { awk -v a="$1" -v t="$2" 'BEGIN {printf "  throughput ratio aepipe/torch %.2fx\n", a / t}'; }
