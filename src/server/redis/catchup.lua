-- A node's catch-up read for its subscription to a topic: what was stored after the last
-- message it delivered. Never creates the topic.
-- KEYS[1] meta hash   KEYS[2] stream
-- ARGV[1] the epoch the node follows ('' = none yet)   ARGV[2] the last seq it delivered
-- ARGV[3] at most this many entries
-- Returns { epoch or nil, head, entries }: from seq 1 when the epoch is not the node's.
local meta, stream = KEYS[1], KEYS[2]
local position = redis.call('HMGET', meta, 'e', 's')
local epoch = position[1]
if not epoch then
  return { false, 0, {} }
end
local head = tonumber(position[2]) or 0
local from = 1
if epoch == ARGV[1] then
  from = tonumber(ARGV[2]) + 1
end
if from > head then
  return { epoch, head, {} }
end
return { epoch, head, redis.call('XRANGE', stream, string.format('%d-0', from), '+', 'COUNT', ARGV[3]) }
