// Runs vue-tsc (the root's) with the TypeScript that `require.resolve` finds from TSC_FROM
// (the root: 5.9; the consumer app: 6.0, create-vite's default). Usage: node vue-tsc.cjs -b --force
const { dirname, join } = require('node:path')
const tsc = require.resolve('typescript/lib/tsc', { paths: [process.env.TSC_FROM || process.cwd()] })
const { version } = require(join(dirname(tsc), '..', 'package.json'))
console.error(`vue-tsc with typescript ${version}`)
require('vue-tsc').run(tsc)
