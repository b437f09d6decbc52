// The fault proxy of test/support/proxy.ts, bundled by lib/build.mjs (one implementation for tests and bench).
import { load } from './build.mjs'

const { createFaultProxy } = await load('proxy')
export { createFaultProxy }
