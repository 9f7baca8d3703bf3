// Entry point of the executable. The first two imports must stay first: the
// polyfill for Node 20, then the guard that keeps stdout for protocol lines.
import './polyfill.js'
import './stdout-guard.js'
import { startupSnapshot } from 'node:v8'
import { enable as enableDebugLogs } from '@libp2p/logger'
import { main } from './main.js'
import { warmUp } from './warm-up.js'

/** Runs the node on this process's argv, environment and stdio, and exits with its code. */
function run (): void {
  // A parent that closed its end of stderr gets no diagnostics, and the node
  // runs on. Unhandled, each failed write raised an error whose report was
  // written to stderr again: the node spun at full CPU and never became ready.
  process.stderr.on('error', () => {})
  process.on('uncaughtException', (err) => {
    process.stderr.write(`p2p-node: uncaught exception (node keeps running): ${err.stack ?? String(err)}\n`)
  })
  process.on('unhandledRejection', (reason) => {
    process.stderr.write(`p2p-node: unhandled rejection (node keeps running): ${(reason as Error)?.stack ?? String(reason)}\n`)
  })
  // libp2p's loggers read DEBUG when their module loads, which for the
  // executable was when its startup snapshot was built.
  if (process.env.DEBUG !== undefined) enableDebugLogs(process.env.DEBUG)

  main({ argv: process.argv.slice(2), env: process.env, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then(
    (code) => { process.exit(code) },
    (err: unknown) => {
      process.stderr.write(`p2p-node: fatal: ${(err as Error)?.stack ?? String(err)}\n`)
      process.exit(1)
    }
  )
}

// The executable starts from a V8 startup snapshot (scripts/build-exe.mjs):
// every module already evaluated, and the code of one full start and stop
// already compiled. The bundle run by plain `node` just runs.
if (startupSnapshot.isBuildingSnapshot()) {
  startupSnapshot.setDeserializeMainFunction(run)
  warmUp().catch((err: unknown) => {
    process.stderr.write(`p2p-node: the snapshot warm-up failed: ${(err as Error)?.stack ?? String(err)}\n`)
    process.exit(1)
  })
} else {
  run()
}
