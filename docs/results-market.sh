#!/bin/sh
# Produces the "Market prediction" figures of docs/RESULTS.md: MarketExperiment (bench module) on the
# real series bundled with ta4j-examples 0.18, every model without DP (direction AUC and return RMSE),
# then under record-level DP-SGD at epsilon 3 (direction AUC). Prints Markdown tables.
# Usage: docs/results-market.sh [rounds=5] [window=10]
set -e
cd "$(dirname "$0")/.."
ROUNDS=${1:-5}
WINDOW=${2:-10}
./mvnw -B -q -pl bench -am install -DskipTests
./mvnw -B -q -pl bench dependency:build-classpath -Dmdep.outputFile=target/bench-cp.txt
CP=bench/target/classes:$(cat bench/target/bench-cp.txt)
echo "== no DP"
OMP_NUM_THREADS=1 java -cp "$CP" io.consort.bench.model.MarketExperiment "$ROUNDS" off "$WINDOW" \
  mlp,lstm,cnn1d,attention true 2>/dev/null | grep -v '^Added differentiated op'
echo "== record-level DP-SGD, epsilon 3"
OMP_NUM_THREADS=1 java -cp "$CP" io.consort.bench.model.MarketExperiment "$ROUNDS" 3 "$WINDOW" \
  mlp,cnn1d,attention,lstm false 2>/dev/null | grep -v '^Added differentiated op'
