#!/usr/bin/env bash
# Replication figures (docs/replication.md): throughput into a JetStream cluster, and lag under a
# steady durable append load. Needs the Release build and running servers, e.g.:
#   dotnet build -c Release src/TruthDb.Dataflow.Cli && state=$(bash .ci/nats.sh start) && . "$state/env" && bash perf/replication.sh
# Environment: NATS (server URLs, default TRUTHDB_NATS_CLUSTER_URLS: the .ci/nats.sh cluster), REPLICAS (3), RECORDS (500000),
# RECORD_SIZE (256), RUNS (3), LAG_SECONDS (20), LAG_PRODUCERS ("1 8").
set -euo pipefail
cd "$(dirname "$0")/.."
truthdb=(dotnet src/TruthDb.Dataflow.Cli/bin/Release/net10.0/truthdb.dll)
nats="${NATS:-${TRUTHDB_NATS_CLUSTER_URLS:?set NATS, or TRUTHDB_NATS_CLUSTER_URLS from the env file of .ci/nats.sh start}}"
replicas="${REPLICAS:-3}"
records="${RECORDS:-500000}"
size="${RECORD_SIZE:-256}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
tag="$(date +%s)"

echo "== throughput: $records records of $size bytes into $replicas replica(s) at $nats"
"${truthdb[@]}" bench --dir "$work/fill" --records "$records" --record-size "$size" --durability written >/dev/null
for run in $(seq 1 "${RUNS:-3}"); do
    "${truthdb[@]}" replicate --dir "$work/fill" --nats "$nats" --stream "perf-tp-$tag-$run" --subject "perf.tp.$tag.$run" \
        --cursor "perf-$run" --replicas "$replicas" --until-caught-up 2>/dev/null | tail -n 1
done

for producers in ${LAG_PRODUCERS:-1 8}; do
    echo "== lag: truthdb bench (durability sync, $producers producer(s), ${LAG_SECONDS:-20} s) while truthdb replicate follows"
    dir="$work/lag-$producers"
    "${truthdb[@]}" bench --dir "$dir" --records 1 --durability sync >/dev/null
    "${truthdb[@]}" replicate --dir "$dir" --nats "$nats" --stream "perf-lag-$tag-$producers" --replicas "$replicas" >"$work/replicate.out" 2>/dev/null &
    replicator=$!
    "${truthdb[@]}" bench --dir "$dir" --duration "${LAG_SECONDS:-20}" --producers "$producers" --record-size "$size" --durability sync | tail -n 1
    kill -TERM "$replicator"
    wait "$replicator" || true
    # The progress lines while the load ran (the first two are warm-up), then the summary.
    grep '^shipped LSN' "$work/replicate.out" | sed -n "3,$((${LAG_SECONDS:-20} + 1))p" > "$work/lines"
    awk -F'|' '{ split($4, l, " "); split($5, p, " "); print l[2], p[3] }' "$work/lines" | sort -n -k1,1 |
        awk '{ lag[NR] = $1; pub[NR] = $2 } END { m = int((NR + 1) / 2); print "median lag " lag[m] " LSNs over " NR " one-second lines (max " lag[NR] ")" }'
    awk -F'|' '{ split($5, p, " "); print p[3] }' "$work/lines" | sort -n | awk '{ v[NR] = $1 } END { print "median of per-second publish p50: " v[int((NR + 1) / 2)] " ms" }'
    awk -F'|' '{ split($2, r, " "); gsub(",", "", r[1]); print r[1] }' "$work/lines" | sort -n | awk '{ v[NR] = $1 } END { print "median shipped records/s: " v[int((NR + 1) / 2)] }'
    tail -n 1 "$work/replicate.out"
done
