-- A node says it is alive until now + TTL (Redis' clock, so nodes' clocks never matter).
-- KEYS[1] nodes sorted set   ARGV[1] node id   ARGV[2] TTL ms
-- Returns 1 when the node was not registered: new, reaped after a pause, or Redis lost it.
local now = redis.call('TIME')
now = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
return redis.call('ZADD', KEYS[1], string.format('%d', now + tonumber(ARGV[2])), ARGV[1])
