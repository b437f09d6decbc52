-- The engine's broadcast of an ephemeral message: delivered once per id within the window,
-- never stored.
-- KEYS[1] this ephemeral id's key
-- ARGV[1] dedupe window ms (0 = off)   ARGV[2] channel   ARGV[3] payload
-- Returns 1 for a duplicate, else 0.
if ARGV[1] ~= '0' then
  if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
    return 1
  end
end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 0
