// One benchmark job in a fresh process: `node bench/job.mjs <scenario> <library> [variant]`.
// Prints exactly one JSON line on stdout ({ scenario, library, status: 'ok'|'skipped'|'error', ... })
// and exits; run.mjs collects it. Anything else a library logs goes to stderr.
import { Skip } from './lib/build.mjs'

const [scenarioId, library, variantId] = process.argv.slice(2)
// Create the lazy stdio handles now, so the handle count before and after a scenario compares like with like.
void process.stdout, void process.stderr
// Keep stdout for the result line only.
const write = process.stdout.write.bind(process.stdout)
console.log = console.info = console.warn = (...args) => process.stderr.write(args.join(' ') + '\n')

let result
try {
  const scenario = await import(`./scenarios/${scenarioId}.mjs`)
  const needsAdapter = scenario.meta.adapter !== false
  const adapter = needsAdapter ? await import(`./adapters/${library}.mjs`) : null
  const variant = variantId ? scenario.meta.variants?.find((v) => v.id === variantId) : undefined
  if (variantId && !variant) throw new Error(`scenario ${scenarioId} has no variant ${variantId}`)
  const metrics = await scenario.run({ library, adapter, variant })
  result = { scenario: scenarioId, library, status: 'ok', ...metrics }
} catch (error) {
  result =
    error instanceof Skip
      ? { scenario: scenarioId, library, status: 'skipped', reason: error.message }
      : { scenario: scenarioId, library, status: 'error', reason: String(error?.stack ?? error).split('\n').slice(0, 3).join(' | ') }
}
write(JSON.stringify(result) + '\n', () => process.exit(0))
