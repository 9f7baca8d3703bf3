import { PassThrough, Writable } from 'node:stream'
import { queryObjects } from 'node:v8'
import { main } from './main.js'

/** How long the warm-up may take before the build fails, ms. */
const WARM_UP_LIMIT_MS = 30_000

/**
 * Runs while the executable's startup snapshot is built: starts a node on
 * 127.0.0.1, asks it for its peers and shuts it down, so that the code of a
 * whole start and stop is compiled into the snapshot rather than at each start.
 * Rejects unless the node answered and stopped cleanly.
 */
export async function warmUp (): Promise<void> {
  const stdin = new PassThrough()
  let output = ''
  let asked = false
  const stdout = new Writable({
    write (chunk, _encoding, done) {
      output += String(chunk)
      if (!asked && output.includes('"type":"ready"')) {
        asked = true
        stdin.write('{"type":"peers","id":1}\n{"type":"shutdown","id":2}\n')
      }
      done()
    }
  })
  const stderr = new Writable({ write (_chunk, _encoding, done) { done() } })
  const limit = setTimeout(() => {
    process.stderr.write(`p2p-node: the snapshot warm-up did not finish within ${WARM_UP_LIMIT_MS} ms; output so far: ${output}\n`)
    process.exit(1)
  }, WARM_UP_LIMIT_MS)

  const code = await main({ argv: ['--host', '127.0.0.1', '--port', '0'], env: {}, stdin, stdout, stderr })
  clearTimeout(limit)
  stdin.end()
  // The process that deserializes the snapshot installs its own.
  process.removeAllListeners('SIGTERM')
  process.removeAllListeners('SIGINT')
  if (code !== 0 || !output.includes('"command":"peers"') || !output.includes('"command":"shutdown"')) {
    throw new Error(`the node exited with ${code}; its output: ${output}`)
  }
  // V8 refuses to write a snapshot while a FinalizationRegistry (AbortSignal.timeout
  // uses one) still has cleanups pending: collect and let them run first.
  // queryObjects runs a full garbage collection; there is no gc() in the builder.
  process.once('beforeExit', () => {
    queryObjects(AbortSignal)
    setTimeout(() => {
      queryObjects(AbortSignal)
      setTimeout(() => {}, 20)
    }, 20)
  })
}
