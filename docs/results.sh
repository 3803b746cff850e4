#!/usr/bin/env bash
# Regenerates the German-credit section of docs/RESULTS.md (between its begin/end markers) with the
# in-process experiment runner (`consort experiment`, cli/.../experiment/FederatedExperiment.java):
# 5 banks, Dirichlet(0.5) label skew, 5 seeds, DP off and record-level epsilon 3, logistic regression
# and the 64-32 MLP. About 10 minutes on 2 shared cores. Other sections of the file are left alone.
# Usage: docs/results.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
common=(--data german-credit --banks 5 --split dirichlet:0.5 --seeds 5 --epsilon off,3
        --adaptive-learning-rate 0.1 --steps 60 --sampling-rate 0.2)
section=$(mktemp)
{
  echo "<!-- german-credit:begin (written by docs/results.sh; edit the script, not this section) -->"
  echo "### Logistic regression"
  echo
  ./consort experiment "${common[@]}" --model logistic-regression --server-learning-rate 0.03 | grep -v '^<!--'
  echo
  echo "### MLP 64-32"
  echo
  ./consort experiment "${common[@]}" --model mlp --server-learning-rate 0.01 | grep -v '^<!--'
  echo
  echo "Command: \`docs/results.sh\` ($(date -u +%Y-%m-%d))."
  echo "<!-- german-credit:end -->"
} > "$section"
python3 - docs/RESULTS.md "$section" <<'PY'
import re, sys
path, section = sys.argv[1], open(sys.argv[2]).read().rstrip("\n")
text = open(path).read()
text = re.sub(r"<!-- german-credit:begin.*?<!-- german-credit:end -->", lambda m: section, text, flags=re.S)
open(path, "w").write(text)
PY
rm -f "$section"
