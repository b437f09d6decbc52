-- The engine's publish, one atomic step per message: dedupe by id, head + 1, append to the
-- capped stream under entry id `<seq>-0`, publish to the topic's channel.
-- KEYS[1] meta hash (e = epoch, s = head)  KEYS[2] stream  KEYS[3] this id's dedupe key
-- ARGV[1] the epoch to give the topic when Redis holds none    ARGV[2] dedupe key prefix
-- ARGV[3] id key   ARGV[4] header (JSON: id, from, ts, user)   ARGV[5] data (JSON text)
-- ARGV[6] stream entries kept (MAXLEN)   ARGV[7] dedupe window (ids per topic, 0 = off)
-- ARGV[8] dedupe TTL ms   ARGV[9] topic TTL ms (0 = none)   ARGV[10] channel
-- Returns { duplicate, epoch, seq, created, header, data }: for a duplicate, the original's.
local meta, stream, idKey = KEYS[1], KEYS[2], KEYS[3]
local window = tonumber(ARGV[7])

local function field(entry, name)
  local fields = entry[2]
  for i = 1, #fields, 2 do
    if fields[i] == name then return fields[i + 1] end
  end
  return ''
end

local function at(seq)
  local id = string.format('%d-0', seq)
  return redis.call('XRANGE', stream, id, id)[1]
end

local created = 0
local epoch = redis.call('HGET', meta, 'e')
if not epoch then
  -- A new numbering. A stream left from a lost one would refuse ids from 1: it goes too.
  epoch = ARGV[1]
  created = 1
  redis.call('DEL', stream)
  redis.call('HSET', meta, 'e', epoch, 's', 0)
end

if window > 0 and created == 0 then
  local seen = redis.call('GET', idKey)
  if seen then
    local sep = string.find(seen, ':', 1, true)
    -- An id remembered from an older epoch names a message that is gone: store this one.
    if sep and string.sub(seen, 1, sep - 1) == epoch then
      local seq = tonumber(string.sub(seen, sep + 1))
      local original = at(seq)
      if original then
        return { 1, epoch, seq, 0, field(original, 'h'), field(original, 'd') }
      end
    end
  end
end

local seq = redis.call('HINCRBY', meta, 's', 1)
if window > 0 then
  -- The id that leaves the window now is forgotten (read before XADD trims its entry).
  if seq > window then
    local leaving = at(seq - window)
    if leaving then
      local key = ARGV[2] .. field(leaving, 'i')
      if redis.call('GET', key) == epoch .. ':' .. string.format('%d', seq - window) then
        redis.call('DEL', key)
      end
    end
  end
  -- Checked above (GET): absent, or left from an older epoch, so it is (re)set here.
  redis.call('SET', idKey, epoch .. ':' .. string.format('%d', seq), 'PX', ARGV[8])
end
redis.call('XADD', stream, 'MAXLEN', ARGV[6], string.format('%d-0', seq), 'i', ARGV[3], 'h', ARGV[4], 'd', ARGV[5])
if ARGV[9] ~= '0' then
  redis.call('PEXPIRE', meta, ARGV[9])
  redis.call('PEXPIRE', stream, ARGV[9])
end
redis.call('PUBLISH', ARGV[10], 'm' .. string.format('%d', seq) .. ' ' .. epoch .. '\n' .. ARGV[4] .. '\n' .. ARGV[5])
return { 0, epoch, seq, created }
