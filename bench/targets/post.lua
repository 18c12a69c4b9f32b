-- wrk script for the admission benchmark: POSTs the corpus of AdmissionReview bodies written by
-- bench/corpus/generate.py, round-robin, with Content-Type: application/json, and counts
-- non-200 answers and (on a sample) answers without an "allowed" decision or with the wrong one.
--
--   wrk -t2 -c8 -d30s -s bench/targets/post.lua https://127.0.0.1:8443/validate -- CORPUS/index.tsv
--
-- Arguments after -- (each also settable from the environment):
--   1  index file (CORPUS_INDEX): generate.py's index.tsv; bodies are read relative to it
--   2  request path (POST_PATH): default the URL's path (/validate above; / for OPA)
-- Environment:
--   POST_CHECK   allowed (default): a sampled 200 answer must contain "allowed": true|false
--                decision: also, its response uid must be a corpus uid and its allowed must be
--                          the corpus's expected decision (for rootguard and the OPA policy)
--                none: only count statuses
--   POST_SAMPLE  check every Nth answer of each thread (default 10; 1 checks all)
--   POST_STRICT  1 (default): exit 3 after the report when any answer was non-200, failed its
--                check, or a socket error happened; 0: report only
--   POST_PACE_MS each connection waits this many milliseconds before each request (wrk's delay
--                hook), so C connections offer about C*1000/POST_PACE_MS requests/s when answers
--                are fast: a paced load for latency below saturation. Unset: as fast as possible.
-- Every thread loads all bodies once (preformatted requests), and starts at a different offset.
-- The report is printed after wrk's own, as lines starting with "post.lua:"; the last one is
-- machine-readable: "post.lua: result requests=N non200=N checked=N bad=N socket_errors=N".

local index_path, req_path, check, sample, strict
local requests, expected = {}, {}
local nbytes, next_i, responses = 0, 1, 0
-- per-thread counters, read by done() through thread:get
non200, checked, bad, first_problem = 0, 0, 0, nil

-- wrk looks for a global delay() when the script loads, so pacing is decided here, not in init.
local pace_ms = tonumber(os.getenv("POST_PACE_MS") or "")
if pace_ms ~= nil and pace_ms > 0 then
  function delay()
    return pace_ms
  end
end

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_id", thread_count)
  table.insert(threads, thread)
end

local function fail(msg)
  io.stderr:write("post.lua: " .. msg .. "\n")
  os.exit(2)
end

local function split_tabs(line)
  local out = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    out[#out + 1] = field
  end
  return out
end

function init(args)
  index_path = args[1] or os.getenv("CORPUS_INDEX")
  if index_path == nil or index_path == "" then
    fail("no corpus index: pass it after -- or set CORPUS_INDEX (see bench/corpus/generate.py)")
  end
  req_path = args[2] or os.getenv("POST_PATH") or wrk.path
  check = os.getenv("POST_CHECK") or "allowed"
  if check ~= "allowed" and check ~= "decision" and check ~= "none" then
    fail("POST_CHECK must be allowed, decision or none, got " .. check)
  end
  sample = tonumber(os.getenv("POST_SAMPLE") or "10") or 10
  if sample < 1 then sample = 1 end
  strict = (os.getenv("POST_STRICT") or "1") ~= "0"

  local dir = index_path:match("^(.*)/[^/]*$") or "."
  local idx = io.open(index_path, "r")
  if idx == nil then fail("cannot open corpus index " .. index_path) end
  local header = true
  for line in idx:lines() do
    if header then
      header = false
      if not line:match("^file\tallowed\tuid") then fail(index_path .. " is not a generate.py index.tsv") end
    elseif line ~= "" then
      local f = split_tabs(line)
      local fh = io.open(dir .. "/" .. f[1], "rb")
      if fh == nil then fail("cannot open corpus body " .. dir .. "/" .. f[1]) end
      local body = fh:read("*a")
      fh:close()
      requests[#requests + 1] = wrk.format("POST", req_path,
        { ["Content-Type"] = "application/json", ["Accept"] = "application/json" }, body)
      expected[f[3]] = f[2]
      nbytes = nbytes + #body
    end
  end
  idx:close()
  if #requests == 0 then fail("corpus index " .. index_path .. " lists no bodies") end
  -- Spread the threads over the corpus (the thread count is not known yet here).
  next_i = math.floor(((thread_id or 1) - 1) * 0.618034 * #requests) % #requests + 1
  if thread_id == 1 then
    io.stdout:write(string.format("post.lua: %d bodies (%d bytes) from %s, POST %s, check %s every %d\n",
      #requests, nbytes, index_path, req_path, check, sample))
  end
end

function request()
  local r = requests[next_i]
  next_i = next_i % #requests + 1
  return r
end

local function problem(msg)
  bad = bad + 1
  if first_problem == nil then first_problem = msg end
end

function response(status, headers, body)
  responses = responses + 1
  if status ~= 200 then
    non200 = non200 + 1
    if first_problem == nil then
      first_problem = "HTTP " .. status .. ": " .. string.sub(body or "", 1, 200)
    end
    return
  end
  if check == "none" or responses % sample ~= 0 then return end
  checked = checked + 1
  local allowed = body:match('"allowed"%s*:%s*(%a+)')
  if allowed ~= "true" and allowed ~= "false" then
    problem("no \"allowed\" decision in: " .. string.sub(body, 1, 200))
    return
  end
  if check == "decision" then
    local uid = body:match('"uid"%s*:%s*"([^"]*)"')
    local want = uid and expected[uid]
    if want == nil then
      problem("response uid " .. tostring(uid) .. " is not a corpus uid")
    elseif want ~= allowed then
      problem("uid " .. uid .. ": allowed " .. allowed .. ", expected " .. want)
    end
  end
end

function done(summary, latency, requests_stats)
  local t_non200, t_checked, t_bad, first = 0, 0, 0, nil
  for _, thread in ipairs(threads) do
    t_non200 = t_non200 + (thread:get("non200") or 0)
    t_checked = t_checked + (thread:get("checked") or 0)
    t_bad = t_bad + (thread:get("bad") or 0)
    first = first or thread:get("first_problem")
  end
  local e = summary.errors
  local socket_errors = e.connect + e.read + e.write + e.timeout
  io.stdout:write(string.format("post.lua: %d requests in %.2f s: %.1f requests/s; latency p50 %.2f ms, p99 %.2f ms\n",
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
  if first then io.stdout:write("post.lua: first problem: " .. first .. "\n") end
  io.stdout:write(string.format("post.lua: result requests=%d non200=%d checked=%d bad=%d socket_errors=%d\n",
    summary.requests, t_non200, t_checked, t_bad, socket_errors))
  io.stdout:flush()
  if (os.getenv("POST_STRICT") or "1") ~= "0" and (t_non200 > 0 or t_bad > 0 or socket_errors > 0) then
    os.exit(3)
  end
end
