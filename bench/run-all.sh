#!/usr/bin/env bash
# Regenerates bench/RESULTS.md and every bench/results/*.md from scratch: every table of issue 7,
# the issue 6 flood, the ClientHello prefetch (table 8), the heap per cached host (table 9) and
# hostile ClientHellos (table 10: server CPU per connection for 1-byte records vs one record, and the
# longest life of each shape of stalled pre-handshake connection; about 2 min), at the issues' sizes.
# Run it on a quiet machine. Measured duration on 2 cores: about 50 min for
# tables 1-7, a third of it the start-time table (1,000,000 certificates, and the keystore baseline
# timing out at 100,000 hosts after 10 minutes), plus about 2 min (estimated) for table 8 and 11 min
# for table 9 (3 layouts x 3 runs, before and after, on a loaded machine; plus a build of its
# baseline the first time); see RESULTS.md for each table's own time.
#
# Every size is a BENCH_* environment variable (defaults = the issue's sizes), e.g.
#   BENCH_TABLES=throughput,latency BENCH_RUNS=5 bench/run-all.sh
# Table 11 (fleet: PostgreSQL failover with a standby the bench starts, catch-up after a 30 s feed gap with
# 1,000 changes) takes about 4 min; table 4 measures a single Redis and a Redis Cluster the bench starts.
# Table 12 (acme) needs Debian's pebble (apt-get install pebble): 50 first contacts, 1,000 handshakes on 100
# new names over two nodes, a flood of 10,000 random disallowed names.
# Knobs: TABLES (startup,throughput,latency,propagation,import,jmh,flood,prefetch,memory,hostile,fleet,acme) RUNS
# START_HOSTS KEYSTORE_MAX START_TIMEOUT_SECONDS KEY_POOL P12_ITERATIONS TENANTS ZIPF CLIENT_THREADS
# WARMUP_SECONDS SECONDS LATENCY_SECONDS CHANGES IMPORT_HOSTS JMH_CACHE_SIZES JMH_OPTIONS
# FLOOD_NAMES FLOOD_TENANTS FLOOD_THREADS PREFETCH_HOSTS PREFETCH_SLICES PREFETCH_WARMUP_SECONDS
# MEMORY_HOSTS MEMORY_BASELINE_REF HOSTILE_CONNECTIONS HOSTILE_STALLED HOSTILE_DEADLINE_MILLIS
# FLEET_GAP_SECONDS FLEET_CHANGES ACME_NAMES ACME_FLEET_NAMES ACME_FLEET_HANDSHAKES ACME_FLOOD_NAMES
# SERVER_JVM_OPTIONS JDBC_URL REDIS PREFIX.
# Table 9 (memory per cached host) measures the current library and, as "before", the library at
# BENCH_MEMORY_BASELINE_REF (default: the commit before the byte bound and the certificate sharing),
# built here once into bench/target/baseline-REF (or give its jars in BENCH_MEMORY_BASELINE).
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
if [[ ",${BENCH_TABLES:-memory}," == *",memory,"* && -z "${BENCH_MEMORY_BASELINE:-}" ]]; then
  ref="${BENCH_MEMORY_BASELINE_REF:-b54286557c3b}"
  base="bench/target/baseline-$ref"
  if [ ! -f "$base/.built" ]; then
    rm -rf "$base" && mkdir -p "$base"
    git archive "$ref" | tar -x -C "$base"
    mvn -B -q -f "$base/pom.xml" -pl jetty-dynamic-sni -am package -Dmaven.test.skip=true
    touch "$base/.built"
  fi
  BENCH_MEMORY_BASELINE="$(ls "$base"/jetty-dynamic-sni/target/jetty-dynamic-sni-*.jar | grep -v -- '-sources\|-tests'):$(ls "$base"/dynsni-core/target/dynsni-core-*.jar | grep -v -- '-sources\|-tests')"
  export BENCH_MEMORY_BASELINE BENCH_MEMORY_BASELINE_REF="$ref"
fi
exec java -Xmx4g -cp "bench/target/dynsni-bench.jar:bench/target/lib/*" dev.dynsni.bench.Bench "$@"
