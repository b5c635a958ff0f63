#!/usr/bin/env bash
# Mutation testing of the security core with Stryker.NET (a local dotnet tool, .config/dotnet-tools.json).
# Each run mutates a few files of one project and runs only that project's fast unit tests against every
# mutant (coverage-based selection, two at a time); a score under the "break" threshold of the run's
# configuration (85 %) fails. The reports go to tests/mutation/out/<run>/ (see docs/TESTING.md).
#   tests/mutation/run.sh            every run
#   tests/mutation/run.sh audit      one run (the name of its .json here)
set -euo pipefail
cd "$(dirname "$0")"
here=$(pwd)
dotnet tool restore >/dev/null

runs=("$@")
if [ ${#runs[@]} -eq 0 ]; then
  runs=()
  for f in *.json; do runs+=("${f%.json}"); done
fi

status=0
for run in "${runs[@]}"; do
  config="$here/$run.json"
  tests=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stryker-config"]["test-projects"][0])' "$config")
  echo "== mutation: $run"
  start=$(date +%s)
  # Stryker works in the test project's folder; its output folder is kept per run.
  if ! (cd "$(dirname "$here/$tests")" && dotnet stryker --config-file "$config" --output "$here/out/$run" --skip-version-check); then
    status=1
  fi
  echo "== mutation: $run took $(( $(date +%s) - start )) s"
done
exit "$status"
