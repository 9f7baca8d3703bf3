// Entry point of the executable. The first two imports must stay first: the
// polyfill for Node 20, then the guard that keeps stdout for protocol lines.
import './polyfill.js'
import './stdout-guard.js'
import { main } from './main.js'

process.on('uncaughtException', (err) => {
  process.stderr.write(`p2p-node: uncaught exception (node keeps running): ${err.stack ?? String(err)}\n`)
})
process.on('unhandledRejection', (reason) => {
  process.stderr.write(`p2p-node: unhandled rejection (node keeps running): ${(reason as Error)?.stack ?? String(reason)}\n`)
})

main({ argv: process.argv.slice(2), env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then(
  (code) => { process.exit(code) },
  (err: unknown) => {
    process.stderr.write(`p2p-node: fatal: ${(err as Error)?.stack ?? String(err)}\n`)
    process.exit(1)
  }
)
