import { createHash } from 'node:crypto'
import announce from './announce.lua'
import broadcast from './broadcast.lua'
import catchup from './catchup.lua'
import heartbeat from './heartbeat.lua'
import history from './history.lua'
import members from './members.lua'
import publish from './publish.lua'
import reap from './reap.lua'

/** One Lua script of the engine: run by SHA (EVALSHA), sent whole only when Redis lacks it. */
export class LuaScript {
  readonly sha: string

  constructor(
    readonly name: string,
    readonly source: string,
    readonly keys: number,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex')
  }
}

/** The scripts, each in its own `.lua` file beside this one (the files say what KEYS and ARGV hold). */
export const SCRIPTS = {
  publish: new LuaScript('publish', publish, 3),
  history: new LuaScript('history', history, 2),
  catchup: new LuaScript('catchup', catchup, 2),
  broadcast: new LuaScript('broadcast', broadcast, 1),
  announce: new LuaScript('announce', announce, 2),
  members: new LuaScript('members', members, 1),
  heartbeat: new LuaScript('heartbeat', heartbeat, 2),
  reap: new LuaScript('reap', reap, 1),
} as const
