#!/usr/bin/env bash
# HTTP load benchmarks: the published portal (Release) against a bare `dotnet new mvc` app published the same
# way, each started alone on this machine and driven by wrk. Prints a Markdown table of the figures and their
# ratios against the baseline of the same run, and keeps it in bench/results/http-*.md (docs/PERFORMANCE.md).
#
# Usage: bench/http.sh [AUDIT_RECORDS [FIRESTORE_RECORDS]]     defaults: 1000000 and 5000
#   DURATION=10s  length of each wrk run          CONNECTIONS="64 256"  the console's connection counts
#
# The Release build has no embedded IdP emulator: tools/Portal.IdpEmulator runs as its own process. Both apps run
# with ASPNETCORE_ENVIRONMENT=Development (plain http, which the portal refuses elsewhere: wrk is not given TLS)
# and log level Warning; the portal's rate limits are lifted. Needs the .NET SDK, python3, wrk (installed from
# Debian when missing and run as root) and, for the Firestore figures, gcloud's Firestore emulator.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

records=${1:-1000000}
firestore_records=${2:-5000}
duration=${DURATION:-10s}
connections=${CONNECTIONS:-"64 256"}
out="$root/bench/.http"
results="$root/bench/results"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Both apps run with workstation GC, as the container image runs the portal (deploy/cloudrun/Dockerfile).
gc=DOTNET_gcServer=0

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
  else echo "wrk is missing: sudo apt-get install wrk" >&2; exit 1; fi
fi

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -- "$pid" 2>/dev/null || true; done
  if [ -f "$out/app.pids" ]; then
    while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$out/app.pids"
    rm -f "$out/app.pids"
  fi
  wait 2>/dev/null || true
}
trap cleanup EXIT

mkdir -p "$out" "$results"
echo "== publishing (Release)" >&2
dotnet publish src/Portal.Web/Portal.Web.csproj -c Release -o "$out/portal" --nologo -v quiet >&2
# The Development settings (plain http, SQLite), which a publish leaves out; the variables below point the portal at
# the bench's own store and keys, and at the demo tenant the standalone emulator writes (EMULATOR_TENANTS_FILE).
cp src/Portal.Web/appsettings.Development.json "$out/portal/"
dotnet publish tools/Portal.IdpEmulator/Portal.IdpEmulator.csproj -c Release -o "$out/emulator" --nologo -v quiet >&2
dotnet build bench/Portal.Bench/Portal.Bench.csproj -c Release --nologo -v quiet >&2
if [ ! -f "$out/baremvc/BareMvc.csproj" ]; then
  dotnet new mvc -n BareMvc -o "$out/baremvc" --no-https --force >/dev/null
fi
dotnet publish "$out/baremvc/BareMvc.csproj" -c Release -o "$out/bare" --nologo -v quiet >&2
bench_dll="$root/bench/Portal.Bench/bin/Release/net10.0/Portal.Bench.dll"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
rss_mb() { awk '/VmRSS/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
# The private part of RSS: the GC heap and native allocations, without the mapped assembly files (clean pages).
anon_mb() { awk '/^Anonymous:/ {s += $2} END {printf "%.0f", s/1024}' "/proc/$1/smaps"; }
now() { date +%s.%N; }

# Waits until URL answers 200; prints the seconds since START.
wait_200() {
  local url=$1 start=$2
  for _ in $(seq 1 3000); do
    if [ "$(curl -s -o /dev/null -w '%{http_code}' "$url")" = 200 ]; then
      python3 -c "print(f'{$(now) - $start:.3f}')"
      return 0
    fi
    sleep 0.01
  done
  echo "timeout waiting for $url" >&2
  return 1
}

emulator_port=$(free_port)
EMULATOR_OKTA_API_TOKEN="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
EMULATOR_CLIENT_SECRET="bench-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
export EMULATOR_OKTA_API_TOKEN EMULATOR_CLIENT_SECRET
start_emulator() {
  rm -f "$out/demo-tenants.json"
  (cd "$out/emulator" && EMULATOR_URL="http://127.0.0.1:$emulator_port" EMULATOR_TENANTS_FILE="$out/demo-tenants.json" exec dotnet Portal.IdpEmulator.dll) >"$out/emulator.log" 2>&1 &
  pids+=($!)
  wait_200 "http://127.0.0.1:$emulator_port/oauth2/default/.well-known/openid-configuration" "$(now)" >/dev/null
}

mkdir -p "$out/data"
[ -f "$out/data/pseudonymisation.key" ] || head -c 32 /dev/urandom | base64 >"$out/data/pseudonymisation.key"
[ -f "$out/data/keyring.key" ] || head -c 32 /dev/urandom | base64 >"$out/data/keyring.key"

# Starts the portal (on the store given by the extra env) on PORT; prints its pid.
start_portal() {
  local port=$1; shift
  (cd "$out/portal" && exec env "$gc" ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="http://127.0.0.1:$port" \
    Logging__LogLevel__Default=Warning \
    Portal__Emulator__Enabled=false \
    Portal__Web__PseudonymisationKeySecret="file:$out/data/pseudonymisation.key" \
    Portal__Web__KeyRingEncryptionKeySecret="file:$out/data/keyring.key" \
    Portal__Web__RateLimits__AgentPermitLimit=100000000 \
    Portal__Web__RateLimits__AddressPermitLimit=100000000 \
    Portal__Web__RateLimits__SensitivePermitLimit=100000000 \
    Portal__TenantsFile="$out/demo-tenants.json" \
    "$@" dotnet Portal.Web.dll) >>"$out/portal.log" 2>&1 &
  echo $! | tee -a "$out/app.pids"
}

start_bare() {
  local port=$1
  (cd "$out/bare" && exec env "$gc" ASPNETCORE_ENVIRONMENT=Development ASPNETCORE_URLS="http://127.0.0.1:$port" Logging__LogLevel__Default=Warning dotnet BareMvc.dll) >>"$out/bare.log" 2>&1 &
  echo $! | tee -a "$out/app.pids"
}

# Stops an app and waits until it has exited, so the next measurement has the machine to itself.
stop() {
  kill "$1" 2>/dev/null || true
  for _ in $(seq 1 500); do [ -d "/proc/$1" ] || return 0; sleep 0.02; done
  kill -9 "$1" 2>/dev/null || true
}

# wrk URL CONNECTIONS [env...]: prints "rps p50 p95 p99 errors"
load() {
  local url=$1 c=$2; shift 2
  local line
  line=$(env "$@" wrk -t2 -c"$c" -d"${DURATION:-$duration}" -s "$root/bench/http/stats.lua" "$url" 2>&1 | grep '^RESULT' || true)
  [ -n "$line" ] || { echo "0 0 0 0 all"; return; }
  python3 - "$line" <<'PY'
import sys
f = dict(kv.split("=") for kv in sys.argv[1].split()[1:])
print(f["rps"], f["p50"], f["p95"], f["p99"], int(f["errors"]))
PY
}

# A short run whose figures are dropped: the first seconds of a fresh process measure the JIT, not the app.
warm() { DURATION=3s load "$@" >/dev/null; }

table=()
row() { table+=("| $1 | $2 | $3 | $4 |"); echo "| $1 | $2 | $3 | $4 |" >&2; }
ratio() { python3 -c "a,b=float('$1' or 0),float('$2' or 0); print(f'{a/b:.2f}×' if b else '—')"; }
median() { python3 -c "import statistics,sys; print(f'{statistics.median(map(float, sys.argv[1:])):.3f}')" "$@"; }

start_emulator

# ---- cold start, median of five, alternating ------------------------------------------------------------
echo "== cold start (5 × each, alternating)" >&2
bare_starts=(); portal_health=(); portal_page=()
for _ in 1 2 3 4 5; do
  port=$(free_port); t=$(now); pid=$(start_bare "$port"); bare_starts+=("$(wait_200 "http://127.0.0.1:$port/" "$t")"); stop "$pid"
  port=$(free_port); rm -f "$out/data/cold.db"*; t=$(now)
  pid=$(start_portal "$port" Portal__Storage__Provider=Sqlite Portal__Storage__Sqlite__Path="$out/data/cold.db")
  portal_health+=("$(wait_200 "http://127.0.0.1:$port/health/ready" "$t")"); stop "$pid"
  port=$(free_port); t=$(now)
  pid=$(start_portal "$port" Portal__Storage__Provider=Sqlite Portal__Storage__Sqlite__Path="$out/data/cold.db")
  portal_page+=("$(wait_200 "http://127.0.0.1:$port/account/signin" "$t")"); stop "$pid"
done
b=$(median "${bare_starts[@]}"); h=$(median "${portal_health[@]}"); p=$(median "${portal_page[@]}")
row "cold start to first 200, /health/ready (s)" "$b" "$h" "$(ratio "$h" "$b")"
row "cold start to first 200, sign-in page (s)" "$b" "$p" "$(ratio "$p" "$b")"

# ---- bare MVC ------------------------------------------------------------------------------------------
echo "== bare MVC" >&2
port=$(free_port); pid=$(start_bare "$port"); wait_200 "http://127.0.0.1:$port/" "$(now)" >/dev/null; sleep 1
bare_rss_start=$(rss_mb "$pid")
warm "http://127.0.0.1:$port/" 64
read -r bare_rps _ _ _ _ < <(load "http://127.0.0.1:$port/" 64)
declare -A bare_c
for c in $connections; do read -r "bare_c[$c]" _ _ _ _ < <(load "http://127.0.0.1:$port/" "$c"); done
bare_rss_load=$(rss_mb "$pid"); bare_anon_load=$(anon_mb "$pid")
stop "$pid"

# ---- the portal on SQLite with N audit records ---------------------------------------------------------
echo "== seeding $records audit records into SQLite" >&2
db="$out/data/bench.db"
rm -f "$db"*
dotnet "$bench_dll" seed --count "$records" --tenant demo-okta --sqlite "$db" >&2

port=$(free_port); url="http://127.0.0.1:$port"
pid=$(start_portal "$port" Portal__Storage__Provider=Sqlite Portal__Storage__Sqlite__Path="$db")
wait_200 "$url/health/ready" "$(now)" >/dev/null; sleep 1
portal_rss_start=$(rss_mb "$pid")
agent_COOKIE="" agent_TOKEN="" auditor_COOKIE="" auditor_TOKEN=""  # set by the sign-ins below
eval "$(python3 bench/http/signin.py "$url" demo-okta tier3.agent@demo.example | sed 's/^/agent_/')"
eval "$(python3 bench/http/signin.py "$url" demo-okta auditor@demo.example | sed 's/^/auditor_/')"

warm "$url/account/signin" 64
warm "$url/console" 64 BENCH_HEADERS="Cookie: $agent_COOKIE"
read -r anon_rps _ _ _ _ < <(load "$url/account/signin" 64)
row "anonymous page, 64 connections (req/s)" "$bare_rps" "$anon_rps" "$(ratio "$anon_rps" "$bare_rps")"
for c in $connections; do
  read -r rps _ _ p99 err < <(load "$url/console" "$c" BENCH_HEADERS="Cookie: $agent_COOKIE")
  row "signed-in console page, $c connections (req/s; p99 ms; errors)" "${bare_c[$c]}" "$rps; $p99; $err" "$(ratio "$rps" "${bare_c[$c]}")"
done

form="__RequestVerificationToken=$(python3 -c 'import sys,urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$agent_TOKEN")"
read -r rps _ p95 p99 err < <(load "$url/console/lookup" 64 BENCH_METHOD=POST BENCH_BODY="$form&login=alice.caller%40demo.example" \
  BENCH_HEADERS=$'Cookie: '"$agent_COOKIE"$'\nContent-Type: application/x-www-form-urlencoded')
row "caller look-up (POST, IdP emulator behind), 64 connections (req/s; p95/p99 ms; errors)" "—" "$rps; $p95/$p99; $err" "—"

# A push started once, then polled by 64 and 256 connections; the emulator counts the polls that reach it.
pending=$(python3 - "$url" "$agent_COOKIE" "$agent_TOKEN" <<'PY'
import html, re, sys, urllib.parse, urllib.request
url, cookie, token = sys.argv[1:4]
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *a, **k): return None
opener = urllib.request.build_opener(NoRedirect)
def post(path, fields):
    req = urllib.request.Request(url + path, data=urllib.parse.urlencode(fields).encode(), headers={"Cookie": cookie})
    try:
        with opener.open(req) as r: return r.status, r.headers, r.read().decode()
    except urllib.error.HTTPError as e: return e.code, e.headers, e.read().decode(errors="replace")
_, _, page = post("/console/lookup", {"__RequestVerificationToken": token, "login": "alice.caller@demo.example"})
form = re.search(r'<form[^>]*action="/verification/push".*?</form>', page, re.S).group(0)
value = lambda n: html.unescape(re.search(rf'name="{n}" value="([^"]*)"', form).group(1))
status, headers, _ = post("/verification/push", {"__RequestVerificationToken": token, "callerRef": value("callerRef"), "factorId": value("factorId")})
assert status == 302, status
print(headers["Location"])
PY
)
for c in $connections; do
  read -r rps _ p95 p99 err < <(load "$url$pending/poll" "$c" BENCH_METHOD=POST \
    BENCH_HEADERS=$'Cookie: '"$agent_COOKIE"$'\nAccept: application/json\nRequestVerificationToken: '"$agent_TOKEN")
  row "push status poll, $c connections (req/s; p95/p99 ms; errors)" "—" "$rps; $p95/$p99; $err" "—"
done
portal_rss_load=$(rss_mb "$pid"); portal_anon_load=$(anon_mb "$pid")

for filter in "" "?action=verification.push" "?outcome=failed" "?agent=agent-7"; do
  read -r rps p50 p95 p99 err < <(load "$url/audit$filter" 16 BENCH_HEADERS="Cookie: $auditor_COOKIE")
  row "audit page at $records records ${filter:-(no filter)}, 16 connections (req/s; p50/p95 ms)" "—" "$rps; $p50/$p95" "p95 goal < 100 ms"
done

# A caller's timeline (200 of the million records are that caller's): the audit page filtered by caller, 100 a page.
caller_hash=$(python3 -c 'import hashlib; print(hashlib.sha256((7).to_bytes(4, "little")).hexdigest())')
read -r rps p50 p95 p99 err < <(load "$url/audit/callers/$caller_hash" 16 BENCH_HEADERS="Cookie: $auditor_COOKIE")
row "caller timeline at $records records, 16 connections (req/s; p50/p95 ms; errors)" "—" "$rps; $p50/$p95; $err" "p95 goal < 100 ms"

# The export: rows/s, and the peak RSS sampled every 200 ms while it runs.
export_run() {
  local label=$1 app_pid=$2 base=$3 cookie=$4 token=$5
  local peak_file="$out/peak.$app_pid"; echo 0 >"$peak_file"
  ( while kill -0 "$app_pid" 2>/dev/null; do r=$(rss_mb "$app_pid"); [ "$r" -gt "$(cat "$peak_file")" ] && echo "$r" >"$peak_file"; sleep 0.2; done ) &
  local sampler=$!
  local t; t=$(now)
  local rows
  rows=$(curl -s -H "Cookie: $cookie" --data-urlencode "__RequestVerificationToken=$token" --data "format=ndjson" "$base/audit/export" | wc -l)
  local secs; secs=$(python3 -c "print(f'{$(now) - $t:.1f}')")
  kill "$sampler" 2>/dev/null || true
  row "$label export (NDJSON): rows, seconds, rows/s, peak RSS MB" "—" "$rows; $secs; $(python3 -c "print(f'{$rows/$secs:.0f}')"); $(cat "$peak_file")" "goal ≥ 100 000 rows/s, RSS < 200 MB"
}
export_run "SQLite, $records records," "$pid" "$url" "$auditor_COOKIE" "$auditor_TOKEN"
row "RSS after start (MB)" "$bare_rss_start" "$portal_rss_start" "$(ratio "$portal_rss_start" "$bare_rss_start")"
row "RSS after load (MB)" "$bare_rss_load" "$portal_rss_load" "$(ratio "$portal_rss_load" "$bare_rss_load")"
row "of which anonymous (private) memory after load (MB)" "$bare_anon_load" "$portal_anon_load" "$(ratio "$portal_anon_load" "$bare_anon_load")"
stop "$pid"

# ---- the portal on the Firestore emulator ---------------------------------------------------------------
if command -v gcloud >/dev/null; then
  echo "== Firestore emulator, $firestore_records audit records" >&2
  fport=$(free_port)
  setsid gcloud emulators firestore start --host-port="127.0.0.1:$fport" --quiet >"$out/firestore.log" 2>&1 &
  fpid=$!; pids+=("-$fpid")
  wait_200 "http://127.0.0.1:$fport/" "$(now)" >/dev/null
  project="bench-$(date +%s)"
  dotnet "$bench_dll" seed --count "$firestore_records" --tenant demo-okta --firestore-project "$project" --firestore-emulator "127.0.0.1:$fport" >&2
  port=$(free_port); url="http://127.0.0.1:$port"
  pid=$(start_portal "$port" Portal__Storage__Provider=Firestore Portal__Storage__Firestore__ProjectId="$project" Portal__Storage__Firestore__EmulatorHost="127.0.0.1:$fport")
  wait_200 "$url/health/ready" "$(now)" >/dev/null
  fauditor_COOKIE="" fauditor_TOKEN=""  # set by the sign-in below
  eval "$(python3 bench/http/signin.py "$url" demo-okta auditor@demo.example | sed 's/^/fauditor_/')"
  read -r rps p50 p95 p99 err < <(load "$url/audit" 4 BENCH_HEADERS="Cookie: $fauditor_COOKIE")
  row "Firestore emulator: audit page at $firestore_records records, 4 connections (req/s; p50/p95 ms)" "—" "$rps; $p50/$p95" "—"
  export_run "Firestore emulator, $firestore_records records," "$pid" "$url" "$fauditor_COOKIE" "$fauditor_TOKEN"
  stop "$pid"
  line=$(dotnet "$bench_dll" firestore-pages --firestore-project "$project" --firestore-emulator "127.0.0.1:$fport" --tenant demo-okta --pages 10)
  row "Firestore: store's paged read vs raw REST runQuery, same pages (ms per page)" "${line#* }" "${line% *}" "$(ratio "${line#* }" "${line% *}") (raw time ÷ store time; goal ≥ 0.8)"
  kill -- "-$fpid" 2>/dev/null || true
fi

stamp=$(date -u +%Y-%m-%dT%H%MZ)
{
  echo "# HTTP benchmarks, $stamp"
  echo
  echo "Command: \`bench/http.sh $records $firestore_records\` (DURATION=$duration). Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "| measure | bare MVC | Portal | ratio |"
  echo "|---|---|---|---|"
  printf '%s\n' "${table[@]}"
} | tee "$results/http-$stamp.md"
