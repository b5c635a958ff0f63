#!/usr/bin/env bash
# Cold start of the published portal as Cloud Run starts it, against a bare `dotnet new mvc` app published the
# same way, in the same run: each started alone, five times, alternating; the time from spawning the process to
# its first 200 (the portal's startup probe /health/ready, which needs the tenants read from the store; the bare
# app's home page), and the resident memory at that moment. The portal starts twice per round: on the Firestore
# emulator and on the embedded SQLite store. Prints a Markdown table with the medians and ratios
# and keeps it in bench/results/coldstart-*.md (docs/PERFORMANCE.md).
#
# Usage: bench/coldstart.sh [RUNS]        default 5
# The portal runs with ASPNETCORE_ENVIRONMENT=Production on the Firestore emulator (FIRESTORE_EMULATOR_HOST, or
# one started here by gcloud) and on SQLite, tenants from a file, keys from files: what the container does, minus the
# network. The store already holds the tenants and key ring (one unmeasured start first), as on every scale-out.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
runs=${1:-5}
out="$root/bench/.coldstart"
results="$root/bench/results"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

pids=()
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
  for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
now() { date +%s.%N; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.3f}')" "$@"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }

mkdir -p "$out" "$results"
publish=(-c Release -r linux-x64 --self-contained false --nologo -v quiet)
echo "== publishing both the same way: dotnet publish ${publish[*]}" >&2
dotnet publish src/Portal.Web/Portal.Web.csproj "${publish[@]}" -o "$out/portal" >&2
# Outside the repository, so that the repository's build settings (analyzers, lock files) do not apply to it.
bare_src="${TMPDIR:-/tmp}/portal-coldstart-baremvc"
if [ ! -f "$bare_src/BareMvc.csproj" ]; then
  dotnet new mvc -n BareMvc -o "$bare_src" --no-https --force >/dev/null
fi
dotnet publish "$bare_src/BareMvc.csproj" "${publish[@]}" -o "$out/bare" >&2

if [ -z "${FIRESTORE_EMULATOR_HOST:-}" ]; then
  port=$(free_port)
  echo "== starting the Firestore emulator on 127.0.0.1:$port" >&2
  setsid gcloud emulators firestore start --host-port="127.0.0.1:$port" --quiet >"$out/firestore.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 120); do curl -fsS "http://127.0.0.1:$port/" >/dev/null 2>&1 && break; sleep 1; done
  export FIRESTORE_EMULATOR_HOST="127.0.0.1:$port"
fi

head -c 32 /dev/urandom | base64 >"$out/pseudonymisation.key"
head -c 32 /dev/urandom | base64 >"$out/keyring.key"
cat >"$out/tenants.json" <<'JSON'
{ "Tenants": [ {
  "Id": "acme", "DisplayName": "Acme", "EmailDomains": [ "acme.example" ],
  "Idp": { "Kind": "Okta", "BaseUrl": "https://acme.okta.example/", "ApiTokenSecret": "env:OKTA_TOKEN_ACME" },
  "AgentSignIn": { "Authority": "https://acme.okta.example/oauth2/default", "ClientId": "portal", "ClientSecretSecret": "env:AGENT_SECRET_ACME" },
  "GroupTiers": { "Helpdesk Tier 1": "Tier 1", "Helpdesk Tier 3": "Tier 3" }
} ] }
JSON

# Spawns an app and waits for URL to answer 200; prints "seconds rss_mb".
measure() {
  local url=$1 t pid; shift
  t=$(now)
  setsid env "$@" >/dev/null 2>&1 &
  pid=$!
  pids+=("$pid")
  for _ in $(seq 1 6000); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url")" = 200 ]; then
      echo "$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$t" "$(now)") $(rss_mb "$pid")"
      kill -- "-$pid" 2>/dev/null || kill "$pid"
      wait "$pid" 2>/dev/null || true
      return
    fi
    if ! kill -0 "$pid" 2>/dev/null; then echo "the app exited before answering $url" >&2; exit 1; fi
    sleep 0.01
  done
  echo "no 200 from $url within a minute" >&2
  exit 1
}

# The portal's settings of both stores but the store itself.
portal_env=(ASPNETCORE_ENVIRONMENT=Production Portal__Web__PublicBaseUrl=https://portal.example Portal__Web__TrustedProxyHops=1
  Portal__Web__PseudonymisationKeySecret="file:$out/pseudonymisation.key" Portal__Web__KeyRingEncryptionKeySecret="file:$out/keyring.key"
  Portal__TenantsFile="$out/tenants.json" OKTA_TOKEN_ACME=bench-token AGENT_SECRET_ACME=bench-secret)

# A new instance of a running deployment finds its tenants and key ring already in the store; the very first start,
# which creates them, is not what the probe waits for on every scale-out. One unmeasured start of each store first.
rm -f "$out/coldstart.db"*
firestore_store=(Portal__Storage__Provider=Firestore Portal__Storage__Firestore__ProjectId="coldstart-$$" Portal__Storage__Firestore__EmulatorHost="$FIRESTORE_EMULATOR_HOST")
sqlite_store=(Portal__Storage__Provider=Sqlite Portal__Storage__Sqlite__Path="$out/coldstart.db" Portal__Storage__Sqlite__SingleInstance=true)
for store in firestore_store sqlite_store; do
  declare -n settings=$store
  port=$(free_port)
  measure "http://127.0.0.1:$port/health/ready" "${portal_env[@]}" PORT="$port" "${settings[@]}" dotnet "$out/portal/Portal.Web.dll" >/dev/null
done

bare_times=(); bare_rss=(); portal_times=(); portal_rss=(); sqlite_times=(); sqlite_rss=()
echo "== cold start, $runs × each, alternating" >&2
for i in $(seq 1 "$runs"); do
  port=$(free_port)
  read -r s m < <(measure "http://127.0.0.1:$port/" ASPNETCORE_ENVIRONMENT=Production ASPNETCORE_URLS="http://127.0.0.1:$port" \
    Logging__LogLevel__Default=Warning dotnet "$out/bare/BareMvc.dll")
  bare_times+=("$s"); bare_rss+=("$m")
  port=$(free_port)
  read -r s m < <(measure "http://127.0.0.1:$port/health/ready" "${portal_env[@]}" PORT="$port" "${firestore_store[@]}" dotnet "$out/portal/Portal.Web.dll")
  portal_times+=("$s"); portal_rss+=("$m")
  port=$(free_port)
  read -r s m < <(measure "http://127.0.0.1:$port/health/ready" "${portal_env[@]}" PORT="$port" "${sqlite_store[@]}" dotnet "$out/portal/Portal.Web.dll")
  sqlite_times+=("$s"); sqlite_rss+=("$m")
  echo "   run $i: bare ${bare_times[-1]} s ${bare_rss[-1]} MB, portal on Firestore ${portal_times[-1]} s ${portal_rss[-1]} MB, on SQLite ${sqlite_times[-1]} s ${sqlite_rss[-1]} MB" >&2
done

bt=$(median "${bare_times[@]}"); pt=$(median "${portal_times[@]}")
bm=$(median "${bare_rss[@]}"); pm=$(median "${portal_rss[@]}")
st=$(median "${sqlite_times[@]}"); sm=$(median "${sqlite_rss[@]}")
file="$results/coldstart-$(date -u +%Y%m%dT%H%M%SZ).md"
{
  echo "| measure (median of $runs, alternating) | bare MVC | portal | ratio |"
  echo "|---|---|---|---|"
  echo "| cold start to first 200 (s): bare \`/\`, portal \`/health/ready\` on the Firestore emulator | $bt | $pt | $(ratio "$pt" "$bt") |"
  echo "| RSS at first 200 (MB), Firestore emulator | $bm | $pm | $(ratio "$pm" "$bm") |"
  echo "| cold start to first 200 (s): bare \`/\`, portal \`/health/ready\` on SQLite | $bt | $st | $(ratio "$st" "$bt") |"
  echo "| RSS at first 200 (MB), SQLite | $bm | $sm | $(ratio "$sm" "$bm") |"
  echo
  echo "Runs: bare ${bare_times[*]} s; portal on Firestore ${portal_times[*]} s; on SQLite ${sqlite_times[*]} s. $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)."
} | tee "$file"
