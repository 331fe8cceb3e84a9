#!/usr/bin/env bash
# Regenerates bench/RESULTS.md and every bench/results/*.md from scratch: every table of issue 7,
# the issue 6 flood and the ClientHello prefetch (table 8), at the issues' sizes. Run it on a quiet
# machine. Measured duration on 2 cores: about 50 min for tables 1-7, a third of it the start-time
# table (1,000,000 certificates, and the keystore baseline timing out at 100,000 hosts after 10
# minutes), plus about 2 min (estimated) for table 8; see RESULTS.md for each table's own time.
#
# Every size is a BENCH_* environment variable (defaults = the issue's sizes), e.g.
#   BENCH_TABLES=throughput,latency BENCH_RUNS=5 bench/run-all.sh
# Knobs: TABLES (startup,throughput,latency,propagation,import,jmh,flood,prefetch) RUNS START_HOSTS
# KEYSTORE_MAX START_TIMEOUT_SECONDS KEY_POOL P12_ITERATIONS TENANTS ZIPF CLIENT_THREADS
# WARMUP_SECONDS SECONDS LATENCY_SECONDS CHANGES IMPORT_HOSTS JMH_CACHE_SIZES JMH_OPTIONS
# FLOOD_NAMES FLOOD_TENANTS FLOOD_THREADS PREFETCH_HOSTS PREFETCH_SLICES PREFETCH_WARMUP_SECONDS
# SERVER_JVM_OPTIONS JDBC_URL REDIS PREFIX.
# Needs PostgreSQL (BENCH_JDBC_URL, default jdbc:postgresql://127.0.0.1:5432/test?user=postgres;
# about 2 GB at 1,000,000 hosts, schemas bench_* dropped at the end) and Redis (BENCH_REDIS,
# keys bench:* deleted at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${BENCH_SKIP_BUILD:-}" != "1" ]; then
  mvn -B -q -pl bench -am package -DskipTests
fi
if [ -z "${BENCH_TABLES:-}" ]; then
  rm -rf bench/results   # a full run starts from scratch; a partial run replaces only its tables
fi
exec java -Xmx4g -cp "bench/target/dynsni-bench.jar:bench/target/lib/*" dev.dynsni.bench.Bench "$@"
