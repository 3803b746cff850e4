#!/usr/bin/env bash
# Regenerates the privacy-utility tables of docs/PRIVACY.md (between their begin/end markers) with the
# in-process experiment runner (`consort experiment`): logistic regression, iid split, 5 seeds,
# record-level epsilon 0.5 to 8 and off, 3 and 5 banks, on German credit (1,000 rows), credit_data
# (docs/data/credit-data-complete.csv, 4,039 rows) and the synthetic generator at 100,000 rows per bank.
# Methods: centralised training (DP-SGD at the same epsilon), FedAvg with each bank's own DP-SGD
# noise (local), and federated DP-SGD with the noise shared among the banks (distributed).
# Usage: docs/privacy-utility.sh [DATA...]   (default: german-credit credit-data synthetic)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
datasets=("$@")
[[ ${#datasets[@]} -eq 0 ]] && datasets=(german-credit credit-data synthetic)
for data in "${datasets[@]}"; do
  section=$(mktemp)
  {
    echo "<!-- privacy-utility-$data:begin (written by docs/privacy-utility.sh) -->"
    for banks in 3 5; do
      echo "**$data, $banks banks** (AUC on the pooled held-out rows, mean ± standard deviation over 5 seeds; ε: the largest any bank spent)"
      echo
      ./consort experiment --data "$data" --banks "$banks" --split iid --seeds 5 --model logistic-regression \
          --epsilon 0.5,1,2,3,4,8,off --methods centralised,fedavg,dp-fedsgd --steps 60 --sampling-rate 0.2 \
          --server-learning-rate 0.03 | grep -v '^<!--'
      echo
    done
    echo "<!-- privacy-utility-$data:end -->"
  } > "$section"
  python3 - docs/PRIVACY.md "$section" "$data" <<'PY'
import re, sys
path, section, data = sys.argv[1], open(sys.argv[2]).read().rstrip("\n"), sys.argv[3]
text = open(path).read()
pattern = r"<!-- privacy-utility-%s:begin.*?<!-- privacy-utility-%s:end -->" % (re.escape(data), re.escape(data))
text = re.sub(pattern, lambda m: section, text, flags=re.S)
open(path, "w").write(text)
PY
  rm -f "$section"
done
