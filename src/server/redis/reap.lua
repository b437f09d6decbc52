-- Removes dead nodes and their presence members, publishing a leave for each member, so
-- subscribers on every live node hear it exactly once (whichever node reaps first).
-- KEYS[1] nodes sorted set
-- ARGV[1] key prefix   ARGV[2] at most this many nodes per call
-- ARGV[3] a node to remove now (one closing itself), or '' for every expired one
-- Returns the number of members removed.
local prefix = ARGV[1]
local dead
if ARGV[3] ~= '' then
  dead = { ARGV[3] }
else
  local now = redis.call('TIME')
  now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
  dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', string.format('%d', now), 'LIMIT', 0, ARGV[2])
end
local removed = 0
for _, node in ipairs(dead) do
  redis.call('ZREM', KEYS[1], node)
  local topicsKey = prefix .. 'node:' .. node .. ':topics'
  for _, topic in ipairs(redis.call('SMEMBERS', topicsKey)) do
    local presence = prefix .. '{' .. topic .. '}:presence'
    local all = redis.call('HGETALL', presence)
    for i = 1, #all, 2 do
      local value = all[i + 1]
      local sep = string.find(value, '\n', 1, true)
      if string.sub(value, 1, sep - 1) == node then
        redis.call('HDEL', presence, all[i])
        redis.call('PUBLISH', prefix .. '{' .. topic .. '}', 'pleave\n' .. string.sub(value, sep + 1))
        removed = removed + 1
      end
    end
  end
  redis.call('DEL', topicsKey)
end
return removed
