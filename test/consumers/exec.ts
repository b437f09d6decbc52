/** Runs a command to completion (bounded), capturing its output; throws with the output on a non-zero exit. */
import { spawn } from 'node:child_process'

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

export function run(command: string, args: string[], options: { cwd: string; timeout?: number; env?: NodeJS.ProcessEnv; allowFailure?: boolean }): Promise<Run> {
  const { cwd, timeout = 240_000, env = process.env, allowFailure = false } = options
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk) => (stdout += chunk))
    child.stderr.on('data', (chunk) => (stderr += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), timeout)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      const result = { code, stdout, stderr }
      if (code !== 0 && !allowFailure) {
        reject(new Error(`${command} ${args.join(' ')} (in ${cwd}) exited with ${code}:\n${stdout}\n${stderr}`))
      } else resolve(result)
    })
  })
}
