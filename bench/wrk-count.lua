-- wrk script for runs of a fixed number of responses (wrk only knows
-- durations): after BENCH_WRK_LIMIT responses the thread stops and prints
-- BENCH_DONE, and bench/run.js then sends wrk SIGINT so it reports at once.
-- Use with -t1 (the count is per thread).
local limit = tonumber(os.getenv("BENCH_WRK_LIMIT") or "0") or 0
local n = 0

function response(status, headers, body)
  n = n + 1
  if n == limit then
    io.write("BENCH_DONE\n")
    io.flush()
    wrk.thread:stop()
  end
end
