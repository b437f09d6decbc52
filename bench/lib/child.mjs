// Forks a helper server process and waits for its { port } message (bounded).
// BENCH_CPU_PROF=<dir> profiles every helper (`node --cpu-prof`, one .cpuprofile per process in
// <dir>): stop() then lets it exit on its own (every helper exits when the IPC channel closes),
// since a killed process writes no profile.
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const profileDir = process.env.BENCH_CPU_PROF

export function forkServer(file, args, timeout = 10_000) {
  const execArgv = profileDir ? ['--cpu-prof', '--cpu-prof-dir', profileDir] : []
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${file} did not report its port within ${timeout} ms`))
    }, timeout)
    child.once('message', (msg) => {
      clearTimeout(timer)
      resolve({
        ...msg,
        child,
        send: (m) => child.send(m),
        stop: () =>
          new Promise((done) => {
            if (child.exitCode !== null) return done()
            child.once('exit', done)
            if (!profileDir || !child.connected) return child.kill('SIGKILL')
            child.disconnect()
            setTimeout(() => child.kill('SIGKILL'), 10_000).unref()
          }),
      })
    })
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code} before reporting its port`)))
  })
}

/** Sends `message` to a forked helper and resolves with its next reply (bounded). */
export function ask(server, message, timeout = 10_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no reply to ${JSON.stringify(message)} within ${timeout} ms`)), timeout)
    server.child.once('message', (reply) => {
      clearTimeout(timer)
      resolve(reply)
    })
    server.send(message)
  })
}
