// Forks a helper server process and waits for its { port } message (bounded).
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export function forkServer(file, args, timeout = 10_000) {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), args, { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
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
            child.kill('SIGKILL')
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
