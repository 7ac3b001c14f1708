#!/usr/bin/env bash
# JetStream under node kills (docs/replication.md, "What JetStream promises, and what it lost
# here"): builds perf/TruthDb.Dataflow.NatsChaos and runs it; every argument goes to the tool
# (--help-less: see its usage with a bad option, e.g. `bash perf/nats-chaos.sh --usage x`).
# Each round starts its own 3-node nats-server cluster on loopback (ports the kernel hands out
# free, storage in a new temporary directory) and stops it; it signals no other process.
# Exit 0 when no acknowledged message was missing through any leader, 1 otherwise.
#   bash perf/nats-chaos.sh --publishers plain,headers --sync default,always --rounds 2 --seconds 60 \
#       --rate 5000 --wait running --throughput-seconds 10
set -euo pipefail
cd "$(dirname "$0")/.."
command -v nats-server >/dev/null 2>&1 || { echo "nats-server is missing: .ci/nats.sh install provides it" >&2; exit 2; }
dotnet build perf/TruthDb.Dataflow.NatsChaos -c Release --nologo -v q -clp:NoSummary >&2
echo "nats-server $(nats-server --version)"
exec dotnet perf/TruthDb.Dataflow.NatsChaos/bin/Release/net10.0/TruthDb.Dataflow.NatsChaos.dll "$@"
