-- wrk script: GET /api/v1/households?q=… with queries read from a file, one per line (names, phone tails, …).
-- WUJIA_TOKEN must hold a bearer token, WUJIA_QUERIES the file's path. See BENCHMARKS.md.
local token = os.getenv("WUJIA_TOKEN") or error("set WUJIA_TOKEN")
local path = os.getenv("WUJIA_QUERIES") or error("set WUJIA_QUERIES")
local queries = {}
for line in io.lines(path) do
  if #line > 0 then queries[#queries + 1] = line end
end
if #queries == 0 then error("no queries in " .. path) end
local headers = { ["Authorization"] = "Bearer " .. token }
request = function()
  local q = queries[math.random(#queries)]
  local enc = q:gsub("[^%w]", function(ch) return string.format("%%%02X", string.byte(ch)) end)
  return wrk.format("GET", "/api/v1/households?q=" .. enc, headers)
end
