#!/usr/bin/env bash
# The worker-churn test ("redelivers the task of a worker killed while training") N times in a
# row while two busy loops load both cores: healthy workers' tasks must never be redelivered.
#   bash bench/churn-under-load.sh [N=20]
set -uo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
spin() { while :; do :; done; }
spin & load1=$!
spin & load2=$!
trap 'kill $load1 $load2 2>/dev/null' EXIT
passed=0
for i in $(seq 1 "$runs"); do
  if npx vitest run test/integration/scale-out.test.ts -t "killed while training" >/dev/null 2>&1; then passed=$((passed + 1)); echo "run $i: pass"; else echo "run $i: FAIL"; fi
done
echo "{\"benchmark\":\"churn-under-load\",\"runs\":$runs,\"passed\":$passed,\"load\":\"2 busy loops\"}"
[ "$passed" -eq "$runs" ]
