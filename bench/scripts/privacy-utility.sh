#!/usr/bin/env bash
# Privacy-utility table for German credit: final federated AUC at several record-level epsilons
# (3 banks, 10 rounds, secure aggregation on) and without DP, each a full `consort demo` run.
# Usage: bench/scripts/privacy-utility.sh [EPSILONS...]   (default: 0.5 1 2 4 8)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
EPSILONS=("${@:-0.5 1 2 4 8}")
[[ $# -eq 0 ]] && EPSILONS=(0.5 1 2 4 8)
printf "%-8s %-10s %-10s %-14s\n" epsilon final_auc central_auc max_bank_eps
for eps in "${EPSILONS[@]}" off; do
  dir="consort-work/privacy-utility-$eps"
  if [[ "$eps" == off ]]; then args=(--dp off); else args=(--dp record --epsilon "$eps"); fi
  ./consort demo --work-dir "$dir" "${args[@]}" > "$dir.log" 2>&1 || { echo "$eps: demo failed, see $dir.log"; continue; }
  python3 - "$dir/report.json" "$eps" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
eps = [b.get("epsilon") for b in r["privacy"]["per_bank"].values() if b.get("epsilon") is not None]
print("%-8s %-10.4f %-10.4f %-14s" % (sys.argv[2], r["final"]["auc"], r["baselines"]["centralized"]["auc"],
      "%.3f" % max(eps) if eps else "-"))
PY
done
