-- Prints one machine-readable line when wrk finishes: requests/s, latency percentiles (ms), errors.
-- Used by bench/http.sh for every run; optional env BENCH_METHOD/BENCH_BODY/BENCH_HEADERS make it a POST.
local method = os.getenv("BENCH_METHOD")
local body = os.getenv("BENCH_BODY")
local headers = os.getenv("BENCH_HEADERS")
if method then wrk.method = method end
if body then wrk.body = body end
if headers then
  for pair in string.gmatch(headers, "[^\n]+") do
    local name, value = string.match(pair, "^([^:]+):%s*(.*)$")
    if name then wrk.headers[name] = value end
  end
end

function done(summary, latency, requests)
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status + summary.errors.timeout
  io.write(string.format("RESULT rps=%.0f p50=%.2f p95=%.2f p99=%.2f requests=%d errors=%d non2xx3xx=%d\n",
    summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests, errors, summary.errors.status))
end
