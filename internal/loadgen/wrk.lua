-- The load generator's script for wrk (loadgen --client wrk): every
-- request of a path is prepared by loadgen in a file, one a line,
-- "METHOD PATH TOKEN BODY" (TOKEN "-" for none); each wrk thread takes
-- every Nth line and sends its lines once each in turn, so fresh codes stay
-- distinct. Arguments: the file and the number of threads. loadgen puts
-- three lines before this script: needle, the text a good answer's body
-- must hold (nil for none, as when loadgen judges the answers by the
-- server's counters instead: then wrk need not keep bodies), once, true
-- when the lines must not be sent twice (a repeat is counted and
-- reported), and nodes, the "host:port" of each node when there are
-- several (nil for one): thread k connects to node k mod #nodes, as a
-- balancer spreads connections.

local counter = 0
local threads = {}

function setup(thread)
   if nodes then
      local host, port = nodes[counter % #nodes + 1]:match("^(.*):(%d+)$")
      thread.addr = wrk.lookup(host, port)[1]
   end
   thread:set("id", counter)
   counter = counter + 1
   table.insert(threads, thread)
end

local reqs = {}
local n, i = 0, 0
bad = 0
repeats = 0
sample = ""

function init(args)
   local file, nthreads = args[1], tonumber(args[2])
   local f = assert(io.open(file, "r"))
   local k = 0
   for line in f:lines() do
      if k % nthreads == id then
         local method, path, token, body = line:match("^(%S+) (%S+) (%S+) ?(.*)$")
         local headers = {}
         if token ~= "-" then
            headers["Authorization"] = "Bearer " .. token
         end
         if body == "" then
            body = nil
         else
            headers["Content-Type"] = "application/json"
         end
         n = n + 1
         reqs[n] = wrk.format(method, path, headers, body)
      end
      k = k + 1
   end
   f:close()
   if n == 0 then
      error("no requests for thread " .. id)
   end
end

local wrapped = false

function request()
   i = i + 1
   if i > n then
      i, wrapped = 1, true
   end
   if wrapped and once then
      repeats = repeats + 1
   end
   return reqs[i]
end

if needle then
   function response(status, headers, body)
      if status < 300 and not string.find(body, needle, 1, true) then
         bad = bad + 1
         if sample == "" then
            sample = string.sub(body, 1, 200)
         end
      end
   end
end

function done(summary, latency, requests)
   local b, r, s = 0, 0, ""
   for _, t in ipairs(threads) do
      b = b + t:get("bad")
      r = r + t:get("repeats")
      local ts = t:get("sample")
      if s == "" and ts then
         s = ts
      end
   end
   local e = summary.errors
   io.write(string.format("hcwrk requests=%d duration_us=%d connect=%d read=%d write=%d status=%d timeout=%d bad=%d repeats=%d\n",
      summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout, b, r))
   io.write(string.format("hcwrk p50_us=%d p95_us=%d p99_us=%d max_us=%d\n",
      latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
   io.write("hcwrk sample=" .. string.gsub(s, "\n", " ") .. "\n")
end
