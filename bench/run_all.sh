#!/usr/bin/env bash
# Run every benchmark and write one JSON report, the README's table and the
# launch throughput plot.
#
#   bench/run_all.sh [OUTPUT]        (default OUTPUT: bench/results.json)
#
# Starts a private PostgreSQL server (tools/test-services.sh) for the
# benchmarks that compare backends, and stops it at the end. The launch
# benchmark runs LAUNCH_REPEAT times per size in LAUNCH_SIZES and reports the
# median run (the largest size is the headline figure); bench/report.py then
# rewrites the README section between the bench markers and draws
# bench/launch_throughput.png.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd -- "$ROOT"
output=${1:-bench/results.json}
LAUNCH_SIZES=${LAUNCH_SIZES:-"25 50 100 200"}
LAUNCH_REPEAT=${LAUNCH_REPEAT:-3}

# shellcheck source=tools/bootstrap.sh
source tools/bootstrap.sh
EXTRAS="$EXTRAS,bench"
ensure_apt_packages tools/apt-packages.txt tools/apt-packages-test.txt
ensure_venv

# shellcheck source=tools/test-services.sh
source tools/test-services.sh
services_dir=$(mktemp -d "${TMPDIR:-/tmp}/nova-bench-services.XXXXXX")
tmp=$(mktemp -d)
cleanup() {
    stop_test_services
    rm -rf -- "$tmp"
}
trap cleanup EXIT
start_postgresql "$services_dir"

for bench in bench/db_migrate.py bench/vif_xml.py bench/api.py; do
    name=$(basename "$bench" .py)
    say "running $name"
    .venv/bin/python "$bench" >"$tmp/$name.json"
done
mkdir "$tmp/launch"
for servers in $LAUNCH_SIZES; do
    say "running launch with $servers servers"
    .venv/bin/python bench/launch.py --servers "$servers" --repeat "$LAUNCH_REPEAT" >"$tmp/launch/$servers.json"
done

.venv/bin/python - "$tmp" "$output" <<'PY'
import json, os, sys
tmp, output = sys.argv[1:]
report = {}
for name in sorted(os.listdir(tmp)):
    if name.endswith(".json"):
        with open(os.path.join(tmp, name)) as handle:
            report[name[:-5]] = json.load(handle)
runs = []
for name in os.listdir(os.path.join(tmp, "launch")):
    with open(os.path.join(tmp, "launch", name)) as handle:
        runs.append(json.load(handle))
runs.sort(key=lambda run: run["nova_all"]["servers"])
report["launch"] = runs[-1]
report["launch_scaling"] = [
    {
        "servers": run["nova_all"]["servers"],
        "servers_per_s": run["servers_per_s"],
        "p50_s": run["p50_s"],
        "p95_s": run["p95_s"],
        "active": run["active"],
        "baseline_per_s": run["baseline_per_s"],
    }
    for run in runs
]
with open(output, "w") as handle:
    json.dump(report, handle, indent=2)
    handle.write("\n")
PY
.venv/bin/python bench/report.py --results "$output" --readme README.md \
    --plot bench/launch_throughput.png
