#!/usr/bin/env bash
# Run every benchmark and write one JSON report (default: bench/results.json).
#
#   bench/run_all.sh [OUTPUT]
#
# Starts a private PostgreSQL server (tools/test-services.sh) for the
# benchmarks that compare backends, and stops it at the end.
set -euo pipefail
ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd -- "$ROOT"
output=${1:-bench/results.json}

# shellcheck source=tools/bootstrap.sh
source tools/bootstrap.sh
ensure_apt_packages tools/apt-packages.txt tools/apt-packages-test.txt
ensure_venv

# shellcheck source=tools/test-services.sh
source tools/test-services.sh
services_dir=$(mktemp -d "${TMPDIR:-/tmp}/nova-bench-services.XXXXXX")
trap stop_test_services EXIT
start_postgresql "$services_dir"

tmp=$(mktemp -d)
for bench in bench/db_migrate.py bench/vif_xml.py bench/api.py bench/launch.py; do
    name=$(basename "$bench" .py)
    echo "running $name ..." >&2
    .venv/bin/python "$bench" >"$tmp/$name.json"
done
.venv/bin/python - "$tmp" "$output" <<'PY'
import json, os, sys
tmp, output = sys.argv[1:]
report = {name[:-5]: json.load(open(os.path.join(tmp, name))) for name in sorted(os.listdir(tmp))}
with open(output, "w") as handle:
    json.dump(report, handle, indent=2)
    handle.write("\n")
print(json.dumps(report, indent=2))
PY
rm -rf -- "$tmp"
