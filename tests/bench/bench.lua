-- wrk script: POST a random request body from a file, count failed answers.
--
--   wrk ... -s bench.lua URL -- BODIES_FILE [TOKEN]
--
-- BODIES_FILE holds one JSON request body per line. Each thread draws from its own seeded
-- generator, so both servers get the same sequence of requests. A failed answer is a
-- status other than 200 or a body carrying "errors". Every thread has its own Lua state;
-- done() runs in the main one and reads each thread's counters through thread:get, then
-- prints one line: BENCH_RESULT followed by JSON.

local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  bodies = {}
  for line in io.lines(args[1]) do
    if #line > 0 then
      table.insert(bodies, line)
    end
  end
  if #bodies == 0 then
    error("no request bodies in " .. args[1])
  end
  headers = { ["Content-Type"] = "application/json" }
  if args[2] and #args[2] > 0 then
    headers["Authorization"] = "Bearer " .. args[2]
  end
  math.randomseed(7919 * id)
  responses, non200, with_errors = 0, 0, 0
  first_failure = ""
end

function request()
  return wrk.format("POST", nil, headers, bodies[math.random(#bodies)])
end

function response(status, headers, body)
  responses = responses + 1
  local failed = false
  if status ~= 200 then
    non200 = non200 + 1
    failed = true
  end
  if body and string.find(body, '"errors"', 1, true) then
    with_errors = with_errors + 1
    failed = true
  end
  if failed and first_failure == "" then
    first_failure = status .. " " .. string.sub(body or "", 1, 300)
  end
end

local function quote(text)
  return '"' .. string.gsub(text, '[%c"\\]', function(c)
    return string.format("\\u%04x", string.byte(c))
  end) .. '"'
end

function done(summary, latency, requests)
  local seen, bad_status, bad_body, failure = 0, 0, 0, ""
  for _, thread in ipairs(threads) do
    seen = seen + (thread:get("responses") or 0)
    bad_status = bad_status + (thread:get("non200") or 0)
    bad_body = bad_body + (thread:get("with_errors") or 0)
    if failure == "" then
      failure = thread:get("first_failure") or ""
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "p50_us": %d, "p90_us": %d, '
      .. '"p99_us": %d, "max_us": %d, "responses_seen": %d, "non200": %d, '
      .. '"with_errors": %d, "socket_errors": %d, "first_failure": %s}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, seen, bad_status, bad_body,
    e.connect + e.read + e.write + e.timeout, quote(failure)
  ))
end
