-- A topic's members whose node is alive (its registration in the nodes set has not expired).
-- KEYS[1] presence hash   KEYS[2] nodes sorted set (score = expiry, ms on Redis' clock)
-- Returns the member JSONs.
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local all = redis.call('HGETALL', KEYS[1])
local alive, members = {}, {}
for i = 2, #all, 2 do
  local value = all[i]
  local sep = string.find(value, '\n', 1, true)
  local node = string.sub(value, 1, sep - 1)
  if alive[node] == nil then
    local expires = redis.call('ZSCORE', KEYS[2], node)
    alive[node] = expires ~= false and tonumber(expires) > now
  end
  if alive[node] then
    members[#members + 1] = string.sub(value, sep + 1)
  end
end
return members
