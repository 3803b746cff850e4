#!/usr/bin/env bash
# One bank's job at scale within the daemon's 2 GB heap (docs/BENCHMARKS.md, "A bank with millions of
# rows"): generates ROWS synthetic rows with EXTRA bureau columns (default 5,000,000 rows x 60 columns)
# once, then runs BankScaleBench under -Xmx2g with a GC log and prints the phases' times, the largest
# heap before and after a collection from the GC log, and the process's peak resident memory.
#   bench/scripts/bank-scale.sh [ROWS] [EXTRA] [EXPECTED_BATCH] [HEAP]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROWS=${1:-5000000}
EXTRA=${2:-51}
BATCH=${3:-512}
HEAP=${4:-2g}
WORK=${BANK_SCALE_DIR:-target/bank-scale}
mkdir -p "$WORK"
JAR=${BENCH_JAR:-bench/target/benchmarks.jar}
if [[ ! -f $JAR ]]; then
  ./mvnw -B -q -pl bench -am package -DskipTests
fi
DATA="$WORK/bank-$ROWS-$EXTRA.csv"
if [[ ! -f $DATA ]]; then
  echo "generating $DATA ..."
  java -cp "$JAR" io.consort.participant.BankScaleBench generate "$DATA.tmp" "$ROWS" "$EXTRA"
  mv "$DATA.tmp" "$DATA"
fi
GC="$WORK/gc-$ROWS-$EXTRA-$HEAP.log"
/usr/bin/time -v -o "$WORK/time.txt" java "-Xmx$HEAP" "-Xlog:gc:file=$GC" -cp "$JAR" \
  io.consort.participant.BankScaleBench run "$DATA" "$EXTRA" "$BATCH"
# G1 lines end "... 1234M->567M(2048M) 12.345ms": the heap before and after each collection
awk '/->/ { split($0, a, /[ (]/); for (i in a) if (a[i] ~ /^[0-9]+M->[0-9]+M$/) { split(a[i], m, /M->|M/);
  if (m[1] > before) before = m[1]; if (m[2] > after) after = m[2]; n++ } }
  END { printf "GC log: %d collections, largest heap before one %d MiB, largest after one (live set and "\
  "what could not be freed) %d MiB\n", n, before, after }' "$GC"
grep -E "Maximum resident|Elapsed \(wall" "$WORK/time.txt"
