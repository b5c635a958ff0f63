#!/usr/bin/env bash
# Runs the portal's benchmarks in Release and keeps their Markdown summaries in bench/results/.
# Not part of CI: figures depend on the machine, so they are recorded (docs/PERFORMANCE.md), not asserted.
# Usage: bench/run.sh            every benchmark (a few minutes on 2 cores)
#        bench/run.sh '*Store*'  only the classes matching a BenchmarkDotNet filter
set -euo pipefail
cd "$(dirname "$0")/.."

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
filter="${1:-*}"
artifacts="bench/BenchmarkDotNet.Artifacts"
rm -rf "$artifacts/results"

dotnet run -c Release --project bench/Portal.Bench -- --filter "$filter" --artifacts "$artifacts"

mkdir -p bench/results
cp "$artifacts"/results/*-report-github.md bench/results/
echo "Markdown summaries copied to bench/results/:"
ls -1 bench/results/
