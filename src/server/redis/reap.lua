-- Removes dead nodes (liveness key expired) and their presence members, publishing a leave
-- for each member, so subscribers on every live node hear it exactly once (whichever node
-- reaps first).
-- KEYS[1] set of node ids
-- ARGV[1] key prefix   ARGV[2] at most this many nodes per call
-- ARGV[3] a node to remove now (one closing itself), or '' for every expired one
-- Returns the number of members removed.
local prefix = ARGV[1]
local dead = {}
if ARGV[3] ~= '' then
  dead[1] = ARGV[3]
  redis.call('DEL', prefix .. 'node:' .. ARGV[3])
else
  local limit = tonumber(ARGV[2])
  for _, node in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    if #dead >= limit then break end
    if redis.call('EXISTS', prefix .. 'node:' .. node) == 0 then
      dead[#dead + 1] = node
    end
  end
end
local removed = 0
for _, node in ipairs(dead) do
  redis.call('SREM', KEYS[1], node)
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
