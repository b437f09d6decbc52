-- A topic's members whose node is alive (its liveness key has not expired), and those of the
-- asking node, which is alive since it asks (its key may be missing for a moment after Redis
-- lost its data, until its next heartbeat registers it again).
-- KEYS[1] presence hash   ARGV[1] key prefix   ARGV[2] the asking node's id
-- Returns the member JSONs.
local all = redis.call('HGETALL', KEYS[1])
local alive, members = { [ARGV[2]] = true }, {}
for i = 2, #all, 2 do
  local value = all[i]
  local sep = string.find(value, '\n', 1, true)
  local node = string.sub(value, 1, sep - 1)
  if alive[node] == nil then
    alive[node] = redis.call('EXISTS', ARGV[1] .. 'node:' .. node) == 1
  end
  if alive[node] then
    members[#members + 1] = string.sub(value, sep + 1)
  end
end
return members
