-- wrk script: bulk PATCH /api/records/contacts with 100 distinct random ids in 1..N.
-- Usage: wrk -s bench/patch_bulk.lua http://127.0.0.1:PORT -- N API_KEY
local counter = 0
local BATCH = 100

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  n = tonumber(args[1])
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. (args[2] or "")}
  math.randomseed(os.time() * 1000 + (tid or 0))
end

function request()
  local seen, items = {}, {}
  while #items < BATCH do
    local id = math.random(1, n)
    if not seen[id] then
      seen[id] = true
      items[#items + 1] = string.format('{"id": %d, "score": %d}', id, math.random(0, 1000))
    end
  end
  local body = '{"records": [' .. table.concat(items, ", ") .. '], "all_or_none": true}'
  return wrk.format("PATCH", "/api/records/contacts", headers, body)
end
