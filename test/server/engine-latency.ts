import type { RealtimeEngine } from '../../src/server'

/**
 * Wraps an engine so every call answers after a macrotask and a random few milliseconds, as a
 * Redis or SQL engine would. Deliveries stay as the inner engine makes them (in order), so
 * publishes and joins on the server really interleave: what a synchronous memory engine never
 * exercises. `random` makes a run reproducible.
 */
export function withLatency(engine: RealtimeEngine, random: () => number = Math.random, maxMs = 3): RealtimeEngine {
  const later = <T>(call: () => Promise<T>): Promise<T> =>
    new Promise<void>((resolve) => setTimeout(resolve, Math.floor(random() * (maxMs + 1)))).then(call)
  return {
    name: `${engine.name}+latency`,
    ready: () => engine.ready(),
    publish: (message) => later(() => engine.publish(message)),
    broadcast: (message) => later(() => engine.broadcast(message)),
    history: (topic, query) => later(() => engine.history(topic, query)),
    exists: (topic) => later(() => engine.exists(topic)),
    subscribe: (topic, listener) => later(() => engine.subscribe(topic, listener)),
    announce: (topic, event, member) => later(() => engine.announce(topic, event, member)),
    members: (topic) => later(() => engine.members(topic)),
    topics: () => later(() => engine.topics()),
    close: () => engine.close(),
  }
}
