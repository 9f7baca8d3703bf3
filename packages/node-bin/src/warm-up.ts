import { PassThrough, Writable } from 'node:stream'
import { createRequire } from 'node:module'
import { queryObjects, startupSnapshot } from 'node:v8'
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
  // uses one) still has cleanups pending: collect first, so that they run
  // before the snapshot. queryObjects runs a full garbage collection; there is
  // no gc() in the builder. (The builder's event loop does not run again after
  // beforeExit: a timer set here never fires.)
  process.once('beforeExit', () => { queryObjects(AbortSignal) })
  startupSnapshot.addSerializeCallback(clearTimerBooks)
}

/**
 * Node keeps its timers in one list per duration, ordered by expiry, and
 * books a single libuv wake-up for the earliest expiry it knows of. A startup
 * snapshot keeps the lists and what Node believes is booked, but the process
 * that starts from it has nothing booked, and its clock starts again at zero.
 * Node books a wake-up only for a timer due before the one it believes booked.
 * So a list left in the snapshot made a node that armed its first timer after
 * that list's build-time expiry run no timer, ever: the last of 50 nodes
 * started together never answered `subscribe`. The warm-up left two: the
 * stop's unref'd grace timer (now cleared at stop) and the unref'd timer of an
 * AbortSignal.timeout(20 s) that outlived its operation.
 *
 * This clears such one-shot timers, drops every list, and has Node's own
 * timer pass run over the empty queue, which leaves nothing booked. A
 * repeating timer still pending fails the build instead: it belongs to
 * something meant to keep running, which the executable would silently lose.
 * Needs --expose-internals, which only the builder gets
 * (scripts/build-exe.mjs); the Node version is pinned there too.
 */
function clearTimerBooks (): void {
  const { timerListMap, timerListQueue, getTimerCallbacks } = createRequire(import.meta.url)('internal/timers') as NodeTimers
  for (const [duration, list] of Object.entries(timerListMap)) {
    const pending: PendingTimer[] = []
    for (let timer = list._idleNext; timer !== list; timer = timer._idleNext) pending.push(timer as PendingTimer)
    const repeating = pending.find((timer) => timer._repeat !== null)
    if (repeating !== undefined) throw new Error(`a ${duration} ms interval is still running after the warm-up's node stopped (${String(repeating._onTimeout).slice(0, 200)}): clear it when the node stops`)
    for (const timer of pending) clearTimeout(timer as unknown as NodeJS.Timeout)
    // Clearing ref'd timers removed their list already.
    if (timerListMap[duration] === list) {
      timerListQueue.removeAt(list.priorityQueuePosition)
      delete timerListMap[duration]
    }
  }
  // Over an empty queue, the pass only notes that nothing is booked, and returns 0.
  const nextExpiry = getTimerCallbacks(() => {}).processTimers(0)
  if (nextExpiry !== 0 || timerListQueue.peek() !== undefined) throw new Error('Node\'s timer queue is not empty: the startup snapshot would hold a timer')
}

/** The parts of Node's lib/internal/timers.js used above. */
interface TimerLink { _idleNext: TimerLink }
interface PendingTimer extends TimerLink { _repeat: number | null, _onTimeout: unknown }
interface NodeTimers {
  timerListMap: Record<string, TimerLink & { priorityQueuePosition: number }>
  timerListQueue: { peek: () => unknown, removeAt: (position: number) => void }
  getTimerCallbacks: (runNextTicks: () => void) => { processTimers: (now: number) => number }
}
