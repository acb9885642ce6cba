#!/usr/bin/env bash
# Soak test (not in CI): many epochs of a tiny config, the process's resident memory (VmRSS)
# sampled from outside every 50 ms and reduced to the peak of each epoch (the epoch a sample
# belongs to is the number of checkpoint_epoch<E> files the training node's epochs have
# written when it is taken; metrics rows would follow the evaluation, which may lag). Prints the per-epoch
# figures and whether memory grows after warm-up: the peak of the last tenth of the epochs
# against the peak of the second tenth, and the least-squares slope over the second half.
#
#   bench/soak.sh [EPOCHS=300] [AEPIPE=build/aepipe] [THREADS=2]
# Writes soak.csv (epoch,rss_kib) into $SOAK_DIR (default: a temporary folder, kept).
# Exit 0: no growth (<= 2 MiB and <= 2 % from the second tenth to the last); 1: growth.
set -euo pipefail
EPOCHS="${1:-300}"
AEPIPE="${2:-build/aepipe}"
THREADS="${3:-2}"
SOAK_DIR="${SOAK_DIR:-$(mktemp -d /tmp/aepipe-soak.XXXXXX)}"
mkdir -p "${SOAK_DIR}"
[[ -x "${AEPIPE}" ]] || { echo "soak.sh: ${AEPIPE} not found; build first (cmake --build build --target aepipe)" >&2; exit 2; }

# Tiny data: 16x16 bar images (a row and/or a column of random brightness), 512 train, 128 test.
python3 - "${SOAK_DIR}" <<'PY'
import gzip, random, struct, sys
d = sys.argv[1]
def write(name, n, seed):
    rnd = random.Random(seed)
    px = bytearray()
    for _ in range(n):
        img = bytearray(256)
        kind, r, c, v = rnd.randrange(3), rnd.randrange(16), rnd.randrange(16), rnd.randrange(128, 256)
        for i in range(16):
            if kind != 1: img[r * 16 + i] = v
            if kind != 0: img[i * 16 + c] = v
        px += img
    with gzip.open(f"{d}/{name}-images.idx.gz", "wb") as f:
        f.write(bytes([0, 0, 8, 3]) + struct.pack(">III", n, 16, 16) + bytes(px))
write("train", 512, 1)
write("test", 128, 2)
PY
cat > "${SOAK_DIR}/soak.yaml" <<YAML
name: soak
model:
  layers:
    - {type: dense, units: 64, activation: relu, init: he}
    - {type: dense, units: 16, activation: relu, init: he}
    - {type: dense, units: 64, activation: relu, init: he}
    - {type: dense, units: 256, activation: sigmoid, init: xavier}
  loss: mse
train:
  optimizer: {type: adam, lr: 0.003}
  batch: 32
  epochs: ${EPOCHS}
  seed: 1
graph:
  nodes:
    - {id: train_set, type: idx_reader, images: train-images.idx.gz}
    - {id: shuffle, type: shuffle}
    - {id: batches, type: batch}
    - {id: scale, type: normalize}
    - {id: model, type: train}
    - {id: test_set, type: idx_reader, images: test-images.idx.gz}
    - {id: eval, type: evaluate}
    - {id: metrics, type: metrics}
    - {id: recon, type: image_grid, count: 8, snapshot_every_epochs: 10}
    - {id: ckpt, type: checkpoint, snapshot_every_epochs: 1}
    - {id: report, type: report}
  edges:
    - train_set -> shuffle
    - shuffle -> batches
    - batches -> scale
    - scale -> model
    - model.epoch -> eval.model
    - test_set -> eval.data
    - eval -> metrics
    - eval -> recon
    - model.epoch -> ckpt
    - eval -> report
YAML

rm -rf "${SOAK_DIR}/runs"
"${AEPIPE}" run "${SOAK_DIR}/soak.yaml" --threads "${THREADS}" --out "${SOAK_DIR}/runs" --quiet \
  > "${SOAK_DIR}/stdout.txt" 2> "${SOAK_DIR}/stderr.txt" &
PID=$!
declare -A peak
while kill -0 "${PID}" 2>/dev/null; do
  rss="$(awk '/^VmRSS:/ {print $2}' "/proc/${PID}/status" 2>/dev/null || true)"
  epoch="$( (find "${SOAK_DIR}/runs" -name 'checkpoint_epoch*.safetensors' 2>/dev/null || true) | wc -l)"
  if [[ -n "${rss}" ]] && (( rss > ${peak[${epoch}]:-0} )); then peak[${epoch}]="${rss}"; fi
  sleep 0.05
done
wait "${PID}" || { echo "soak.sh: aepipe failed:" >&2; cat "${SOAK_DIR}/stderr.txt" >&2; exit 1; }

# Row e: peak RSS while epoch e+1 ran (epoch 0 = start-up and the first epoch).
{ echo "epoch,rss_kib"; for e in $(seq 0 "${EPOCHS}"); do [[ -n "${peak[$e]:-}" ]] && echo "${e},${peak[$e]}"; done; } \
  > "${SOAK_DIR}/soak.csv"
python3 - "${SOAK_DIR}/soak.csv" <<'PY'
import csv, sys
rows = [(int(r["epoch"]), int(r["rss_kib"])) for r in csv.DictReader(open(sys.argv[1]))]
rows = [r for r in rows if r[0] >= 1]
n = len(rows)
if n < 20:
    sys.exit(f"soak.sh: only {n} epochs sampled; run more epochs")
tenth = max(1, n // 10)
early = max(v for _, v in rows[tenth:2 * tenth])
late = max(v for _, v in rows[-tenth:])
half = rows[n // 2:]
mx = sum(e for e, _ in half) / len(half); my = sum(v for _, v in half) / len(half)
slope = sum((e - mx) * (v - my) for e, v in half) / max(1e-9, sum((e - mx) ** 2 for e, _ in half))
print(f"epochs sampled: {n}; RSS KiB: first {rows[0][1]}, min {min(v for _, v in rows)}, max {max(v for _, v in rows)}")
print(f"peak of epochs {rows[tenth][0]}-{rows[2*tenth-1][0]}: {early} KiB; peak of the last {tenth} epochs: {late} KiB; "
      f"change {late - early:+d} KiB ({100.0 * (late - early) / early:+.2f} %)")
print(f"slope over the second half: {slope:+.2f} KiB/epoch")
grow = late - early > 2048 and (late - early) > 0.02 * early
print("verdict: " + ("GROWTH" if grow else "no growth"))
sys.exit(1 if grow else 0)
PY
rows="$(($(wc -l < "$(ls "${SOAK_DIR}"/runs/*/metrics.csv)") - 1))"
echo "metrics rows (evaluated epochs) at the end: ${rows} of ${EPOCHS}"
echo "soak.sh: figures in ${SOAK_DIR}/soak.csv"
