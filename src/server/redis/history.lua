-- The engine's history read, one consistent read: the topic's epoch and head, and the newest
-- held entries after `since`. Gives the topic its epoch when Redis holds none.
-- KEYS[1] meta hash   KEYS[2] stream
-- ARGV[1] the epoch to give the topic when Redis holds none
-- ARGV[2] the epoch `since` belongs to ('' = the current one)   ARGV[3] since
-- ARGV[4] limit   ARGV[5] history limit   ARGV[6] topic TTL ms (0 = none)
-- Returns { epoch, head, created, entries }
local meta, stream = KEYS[1], KEYS[2]
local epoch = redis.call('HGET', meta, 'e')
local head, created = 0, 0
if not epoch then
  epoch = ARGV[1]
  created = 1
  redis.call('DEL', stream)
  redis.call('HSET', meta, 'e', epoch, 's', 0)
else
  head = tonumber(redis.call('HGET', meta, 's')) or 0
end
if ARGV[6] ~= '0' then
  -- A topic being read is alive: it keeps its numbering and history.
  redis.call('PEXPIRE', meta, ARGV[6])
  redis.call('PEXPIRE', stream, ARGV[6])
end

local limit = tonumber(ARGV[4])
if limit <= 0 or (ARGV[2] ~= '' and ARGV[2] ~= epoch) then
  return { epoch, head, created, {} }
end
local from = math.max(tonumber(ARGV[3]) + 1, head - tonumber(ARGV[5]) + 1, head - limit + 1, 1)
if from > head then
  return { epoch, head, created, {} }
end
return { epoch, head, created, redis.call('XRANGE', stream, string.format('%d-0', from), '+') }
