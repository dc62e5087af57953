-- wrk script of bench/load_http.py (one file, the mode is the first script argument).
--
--   wrk ... -s bench/load/load.lua <url> -- live    <threads>
--   wrk ... -s bench/load/load.lua <url> -- new     <threads> <token> <id base (13 digits)>
--   wrk ... -s bench/load/load.lua <url> -- repeat  <threads> <token> <file: one Bubble id a line>
--   wrk ... -s bench/load/load.lua <url> -- webhook <threads> <file: "X-Hub-Signature<TAB>body" a line>
--
-- Every response is counted by status per thread; done() prints one line "LOAD_RESULT {json}" that
-- the Python side parses. Webhook events are never sent twice: thread i takes lines i, i+T, i+2T…
-- and stops (reporting "exhausted") instead of wrapping, because a re-sent event id is answered
-- 200 without a new row and would break the "every 200 is a stored row" count.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local function read_lines(path)
  local file = assert(io.open(path, "r"))
  local lines = {}
  for line in file:lines() do
    if #line > 0 then
      table.insert(lines, line)
    end
  end
  file:close()
  return lines
end

function init(args)
  mode = args[1]
  nthreads = tonumber(args[2])
  statuses = {}
  exhausted = 0
  sent = 0
  if mode == "live" then
    live_request = wrk.format("GET", wrk.path, {["X-Forwarded-Proto"] = "https"})
  elseif mode == "new" or mode == "repeat" then
    api_headers = {
      ["Authorization"] = "Bearer " .. args[3],
      ["Content-Type"] = "application/json",
      -- nginx sets it in production; without it SECURE_SSL_REDIRECT answers 301.
      ["X-Forwarded-Proto"] = "https",
    }
    if mode == "new" then
      id_base = args[4]
    else
      ids = read_lines(args[4])
    end
  elseif mode == "webhook" then
    signatures, bodies = {}, {}
    for i, line in ipairs(read_lines(args[3])) do
      if (i - 1) % nthreads == id then
        local tab = string.find(line, "\t", 1, true)
        table.insert(signatures, string.sub(line, 1, tab - 1))
        table.insert(bodies, string.sub(line, tab + 1))
      end
    end
  else
    error("unknown mode " .. tostring(mode))
  end
end

function request()
  sent = sent + 1
  if mode == "live" then
    return live_request
  elseif mode == "new" then
    -- A Bubble id no other request, thread or run uses: <13 digits>x<2 digits thread><16 digits counter>.
    local order_id = string.format("%sx%02d%016d", id_base, id, sent)
    return wrk.format("POST", "/v1/orders/" .. order_id .. "/sync-omie", api_headers, "{}")
  elseif mode == "repeat" then
    local order_id = ids[(sent * nthreads + id) % #ids + 1]
    return wrk.format("POST", "/v1/orders/" .. order_id .. "/sync-omie", api_headers, "{}")
  end
  if sent > #bodies then
    -- Out of pre-signed events: stop this thread rather than re-send one.
    exhausted = 1
    wrk.thread:stop()
    return wrk.format("GET", "/health/live", {["X-Forwarded-Proto"] = "https"})
  end
  return wrk.format("POST", "/webhooks/pagarme", {
    ["Content-Type"] = "application/json",
    ["X-Hub-Signature"] = signatures[sent],
    ["X-Forwarded-Proto"] = "https",
  }, bodies[sent])
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local counts, total_exhausted = {}, 0
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do
      counts[status] = (counts[status] or 0) + n
    end
    total_exhausted = total_exhausted + thread:get("exhausted")
  end
  local parts = {}
  for status, n in pairs(counts) do
    table.insert(parts, string.format('"%d": %d', status, n))
  end
  local e = summary.errors
  io.write(string.format(
    'LOAD_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, '
      .. '"statuses": {%s}, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, '
      .. '"exhausted_threads": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, table.concat(parts, ", "), e.connect, e.read, e.write, e.status, e.timeout, total_exhausted
  ))
end
