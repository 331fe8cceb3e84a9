#!/usr/bin/env bash
# Smoke run of every benchmark table at tiny sizes (CI; about 2 minutes once built, 20 s of it table 8;
# table 9 runs without its "before" build).
# Writes bench/target/smoke/RESULTS.md. Any BENCH_* variable overrides a smoke size.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${BENCH_SKIP_BUILD:-}" != "1" ]; then
  mvn -B -q -pl bench -am package -DskipTests
fi
exec java -cp "bench/target/dynsni-bench.jar:bench/target/lib/*" dev.dynsni.bench.Bench --smoke "$@"
