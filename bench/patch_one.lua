-- wrk script: single-record PATCH /api/records/contacts/{random id in 1..N}.
-- Usage: wrk -s bench/patch_one.lua http://127.0.0.1:PORT -- N API_KEY
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

function init(args)
  n = tonumber(args[1])
  headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. (args[2] or "")}
  math.randomseed(os.time() * 1000 + (tid or 0))
end

local letters = "abcdefghijklmnopqrstuvwxyz"

local function word()
  local t = {}
  for i = 1, math.random(4, 12) do
    local k = math.random(1, #letters)
    t[i] = letters:sub(k, k)
  end
  return table.concat(t)
end

function request()
  local body = string.format('{"score": %d, "title": "%s"}', math.random(0, 1000), word())
  return wrk.format("PATCH", "/api/records/contacts/" .. math.random(1, n), headers, body)
end
