-- A node says it is alive: its liveness key lives for the TTL; the set of nodes lists it.
-- KEYS[1] this node's liveness key   KEYS[2] set of node ids
-- ARGV[1] node id   ARGV[2] TTL ms
-- Returns 1 when the node was not registered (new, reaped after a pause, or Redis lost it), else 0.
if redis.call('SET', KEYS[1], '1', 'PX', ARGV[2], 'XX') then
  return 0
end
redis.call('SET', KEYS[1], '1', 'PX', ARGV[2])
-- Expired but not reaped yet: its members are still there, nothing to restore.
return redis.call('SADD', KEYS[2], ARGV[1])
