-- A presence change of one member, recorded and published together. Members are kept per
-- topic as `<node id>\n<member JSON>`; a member lives as long as its node does (reap.lua).
-- KEYS[1] presence hash   KEYS[2] the node's set of topics with members
-- ARGV[1] event (join | online | offline | leave)   ARGV[2] client id   ARGV[3] node id
-- ARGV[4] member JSON   ARGV[5] channel   ARGV[6] topic
-- ARGV[7] '1' when this leave is the node's last member on the topic
-- Returns 1 when the event was published, 0 when dropped (a change of a member not there).
local presence, nodeTopics = KEYS[1], KEYS[2]
local event, client = ARGV[1], ARGV[2]
if event == 'join' then
  redis.call('HSET', presence, client, ARGV[3] .. '\n' .. ARGV[4])
  redis.call('SADD', nodeTopics, ARGV[6])
elseif event == 'leave' then
  if redis.call('HDEL', presence, client) == 0 then
    return 0
  end
  if ARGV[7] == '1' then
    redis.call('SREM', nodeTopics, ARGV[6])
  end
else
  -- online / offline update a present member; one that already left stays gone.
  if redis.call('HEXISTS', presence, client) == 0 then
    return 0
  end
  redis.call('HSET', presence, client, ARGV[3] .. '\n' .. ARGV[4])
end
redis.call('PUBLISH', ARGV[5], 'p' .. event .. '\n' .. ARGV[4])
return 1
