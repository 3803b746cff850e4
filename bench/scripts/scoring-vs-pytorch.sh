#!/usr/bin/env bash
# Scoring speed: Consort's scorer (and its network alone) against PyTorch inference of the same
# network on the same rows, one row at a time and in batches of 1,024, one thread each. Runs the
# Java bench and the PyTorch bench alternately ROUNDS times (default 3) and prints the medians and
# the ratios Java / PyTorch as a Markdown table (docs/BENCHMARKS.md, "Scoring").
# Needs Debian's python3-torch (installed with apt-get when missing) and /usr/bin/python3.
# Usage: bench/scripts/scoring-vs-pytorch.sh [ROUNDS] [SAMPLES]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROUNDS="${1:-3}"
SAMPLES="${2:-5}"
OUT=bench/target/scoring-bench
PY=/usr/bin/python3

if ! "$PY" -c 'import torch' 2>/dev/null; then
  echo "installing Debian's python3-torch..." >&2
  sudo apt-get install -y python3-torch >&2 || apt-get install -y python3-torch >&2
fi

./mvnw -B -q -pl bench -am test-compile dependency:build-classpath -Dmdep.outputFile=target/bench-cp.txt -DskipTests >&2
CP="bench/target/classes:$(cat bench/target/bench-cp.txt)"
mkdir -p "$OUT"
: > "$OUT/runs.jsonl"
for ((i = 1; i <= ROUNDS; i++)); do
  echo "round $i of $ROUNDS: java" >&2
  java -cp "$CP" io.consort.bench.scoring.ScoringBench "$OUT" "$SAMPLES" | tail -1 >> "$OUT/runs.jsonl"
  echo "round $i of $ROUNDS: pytorch" >&2
  OMP_NUM_THREADS=1 "$PY" bench/scripts/torch_inference.py "$OUT" "$SAMPLES" >> "$OUT/runs.jsonl"
done

"$PY" - "$OUT/runs.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(line) for line in open(sys.argv[1])]
java = [r for r in runs if r["engine"] == "java"]
torch = [r for r in runs if r["engine"] != "java"]
med = lambda rs, k: statistics.median(r[k] for r in rs)
print("%s; %d rounds; max |logit gap| %.2e" % (torch[0]["engine"], len(java), max(r["max_logit_gap"] for r in torch)))
print()
print("| rows/s, one thread | one row | batch of 1,024 |")
print("|---|---:|---:|")
print("| PyTorch: network + sigmoid on encoded rows | %.0f | %.0f |" % (med(torch, "network_row"), med(torch, "network_batch")))
print("| Consort: network on encoded rows | %.0f | %.0f |" % (med(java, "network_row"), med(java, "network_batch")))
print("| Consort: scorer from raw text, no reasons | %.0f | %.0f |" % (med(java, "scorer_row"), med(java, "scorer_batch")))
print("| Consort: scorer with 3 reason codes | %.0f | %.0f |" % (med(java, "scorer_reasons_row"), med(java, "scorer_reasons_batch")))
for name, key in [("network / PyTorch", "network"), ("scorer / PyTorch", "scorer"), ("scorer with reasons / PyTorch", "scorer_reasons")]:
    print("| ratio %s | %.2f | %.2f |" % (name, med(java, key + "_row") / med(torch, "network_row"),
                                         med(java, key + "_batch") / med(torch, "network_batch")))
PY
