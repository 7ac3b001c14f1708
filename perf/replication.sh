#!/usr/bin/env bash
# Replication figures (docs/replication.md, "Performance"), one run, every set-up side by side: the
# writer's rate (truthdb bench, durable appends), the ship rate and the lag of truthdb replicate
# following it (one progress line a second), the time to catch up once the load stops, and the rate
# of truthdb restore rebuilding the log from the stream afterwards. For each record size, replica
# count and JetStream sync setting, it starts fresh servers with .ci/nats.sh (a single node and a
# 3-node cluster on loopback; --sync always for the always-sync set-ups) and stops them afterwards,
# so nothing is left behind. Needs the Release build:
#   dotnet build -c Release src/TruthDb.Dataflow.Cli && bash perf/replication.sh
# Environment: SECONDS_OF_LOAD (60), SIZES ("128 1024"), REPLICAS ("1 3"), SYNCS ("default always"),
# PRODUCERS_DEFAULT (64), PRODUCERS_ALWAYS (8), FORMAT (batch), OUT (a file that gets the table too),
# LINES (a directory that gets each set-up's progress lines of the load, to see the lag second by second).
set -euo pipefail
cd "$(dirname "$0")/.."
truthdb=(dotnet src/TruthDb.Dataflow.Cli/bin/Release/net10.0/truthdb.dll)
load="${SECONDS_OF_LOAD:-60}"
work="$(mktemp -d)"
state=""
cleanup() {
    [ -z "$state" ] || bash .ci/nats.sh stop "$state" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

quantile() { # q (0..1), numbers on stdin: the nearest-rank quantile
    sort -n | awk -v q="$1" '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } i = int(q * NR + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; print v[i] }'
}

field() { # line number-of-field: a number from a progress line ("|"-separated), commas dropped
    awk -F'|' -v f="$2" '{ split($f, w, " "); gsub(",", "", w[1]); gsub(",", "", w[2]); print (w[1] ~ /^[0-9.]+$/ ? w[1] : w[2]) }' <<<"$1"
}

header="| record | replicas | JetStream sync | producers | writer records/s | shipped records/s (load) | lag p50 / p99 / max, LSNs | lag p50 / p99, ms | lag first 10 s / last 10 s (median) | catch-up after the load | restore records/s | messages/s (load) |"
echo "$header"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
[ -z "${OUT:-}" ] || printf '%s\n|---|---|---|---|---|---|---|---|---|---|---|---|\n' "$header" >"$OUT"

for sync in ${SYNCS:-default always}; do
    for replicas in ${REPLICAS:-1 3}; do
        for size in ${SIZES:-128 1024}; do
            producers="${PRODUCERS_DEFAULT:-64}"
            [ "$sync" = default ] || producers="${PRODUCERS_ALWAYS:-8}"
            if [ "$sync" = always ]; then state="$(bash .ci/nats.sh start --sync always 2>/dev/null)"; else state="$(bash .ci/nats.sh start 2>/dev/null)"; fi
            # shellcheck source=/dev/null
            . "$state/env"
            nats="$TRUTHDB_NATS_URL"
            [ "$replicas" = 1 ] || nats="$TRUTHDB_NATS_CLUSTER_URLS"
            dir="$work/log"
            rm -rf "$dir" "$work/restored"
            stream="PERF_${sync}_${replicas}_${size}"

            # The replicator follows from the start (of a log holding one record); the writer runs for
            # the load's duration.
            "${truthdb[@]}" bench --dir "$dir" --records 1 --durability sync >/dev/null
            "${truthdb[@]}" replicate --dir "$dir" --nats "$nats" --stream "$stream" --replicas "$replicas" \
                --format "${FORMAT:-batch}" --interval 1s >"$work/replicate.out" 2>"$work/replicate.err" &
            replicator=$!
            for _ in $(seq 1 300); do grep -q '^replicating' "$work/replicate.out" 2>/dev/null && break; sleep 0.1; done
            before=$(grep -c '^shipped LSN' "$work/replicate.out" || true)
            bench="$("${truthdb[@]}" bench --dir "$dir" --duration "${load}s" --producers "$producers" --record-size "$size" --durability sync | tail -n 1)"
            after=$(grep -c '^shipped LSN' "$work/replicate.out" || true)
            last="$(awk '{ print $2 }' <<<"$bench")"
            last=$((last + 1))
            writer="$(sed -n 's/.*s: \([0-9]*\) records\/s.*/\1/p' <<<"$bench")"

            # Catch-up: until the progress line shows the writer's last LSN shipped.
            started=$(date +%s.%N)
            caught=""
            for _ in $(seq 1 1200); do
                shipped="$(grep '^shipped LSN' "$work/replicate.out" | tail -n 1 | awk '{ print $3 }')"
                if [ -n "$shipped" ] && [ "$shipped" -ge "$last" ]; then caught=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f s", b - a }'); break; fi
                if ! kill -0 "$replicator" 2>/dev/null; then break; fi
                sleep 0.5
            done
            kill -TERM "$replicator" 2>/dev/null || true
            wait "$replicator" || true
            [ -n "$caught" ] || caught="not within 10 min ($(tail -n 1 "$work/replicate.err"))"

            # The lines written while the load ran (the first one of it is the warm-up).
            sed -n '/^shipped LSN/p' "$work/replicate.out" | sed -n "$((before + 2)),${after}p" >"$work/lines"
            [ -z "${LINES:-}" ] || { mkdir -p "$LINES"; cp "$work/lines" "$LINES/$stream.txt"; }
            lags="$(while IFS= read -r line; do field "$line" 5; done <"$work/lines")"
            rates="$(while IFS= read -r line; do field "$line" 2; done <"$work/lines")"
            messages="$(while IFS= read -r line; do field "$line" 3; done <"$work/lines")"
            p50=$(quantile 0.5 <<<"$lags")
            p99=$(quantile 0.99 <<<"$lags")
            max=$(quantile 1 <<<"$lags")
            first10=$(head -n 10 <<<"$lags" | quantile 0.5)
            last10=$(tail -n 10 <<<"$lags" | quantile 0.5)
            shipped_rate=$(awk '{ s += $1 } END { if (NR) printf "%.0f", s / NR; else print "-" }' <<<"$rates")
            msg_rate=$(awk '{ s += $1 } END { if (NR) printf "%.0f", s / NR; else print "-" }' <<<"$messages")
            ms50=$(awk -v l="$p50" -v r="$writer" 'BEGIN { if (r > 0 && l ~ /^[0-9]+$/) printf "%.0f", l * 1000 / r; else print "-" }')
            ms99=$(awk -v l="$p99" -v r="$writer" 'BEGIN { if (r > 0 && l ~ /^[0-9]+$/) printf "%.0f", l * 1000 / r; else print "-" }')

            # Restore: the whole stream into a new directory.
            restore="$("${truthdb[@]}" restore --dir "$work/restored" --nats "$nats" --stream "$stream" 2>/dev/null | tail -n 1)"
            restore_rate="$(sed -n 's/.* s (\([0-9,]*\) records\/s.*/\1/p' <<<"$restore" | tr -d ,)"
            [ -n "$restore_rate" ] || restore_rate="failed: $restore"

            row="| $size B | R$replicas | $sync | $producers | $writer | $shipped_rate | $p50 / $p99 / $max | $ms50 / $ms99 | $first10 / $last10 | $caught | $restore_rate | $msg_rate |"
            echo "$row"
            [ -z "${OUT:-}" ] || echo "$row" >>"$OUT"
            bash .ci/nats.sh stop "$state" >/dev/null 2>&1 || true
            state=""
            rm -rf "$dir" "$work/restored"
        done
    done
done
