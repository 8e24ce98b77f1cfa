-- wrk script: household lookup by full address against the demo community.
-- WUJIA_TOKEN must hold a bearer token (POST /api/v1/sessions). See BENCHMARKS.md.
local token = os.getenv("WUJIA_TOKEN") or error("set WUJIA_TOKEN")
local rooms = {}
for c = 1, 6 do for b = 1, 5 do for u = 1, 3 do for f = 1, 10 do
  rooms[#rooms + 1] = string.format("%d号院%d号楼%d单元%d01", c, b, u, f)
end end end end
local headers = { ["Authorization"] = "Bearer " .. token }
request = function()
  local q = rooms[math.random(#rooms)]
  local enc = q:gsub("[^%w]", function(ch) return string.format("%%%02X", string.byte(ch)) end)
  return wrk.format("GET", "/api/v1/households?q=" .. enc, headers)
end
