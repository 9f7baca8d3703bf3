import { performance } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'

/** The `gc` function V8 defines on globalThis under --expose-gc (the executable's flags). */
type ExposedGc = (options: { type: 'major', execution: 'sync', flavor: 'last-resort' }) => void

export interface ReclaimOptions {
  /** How often the node looks at how busy it was, ms. */
  checkMs: number
  /** Event-loop utilisation (0–1) over one check below which the node counts as idle. */
  idleBelow: number
  /** Heap growth since the last collection, bytes, that makes one worth running. */
  minGrowthBytes: number
  /** Called after each collection (for the log). */
  onReclaim?: (info: { ms: number, heapBefore: number, heapAfter: number }) => void
}

/** Heap growth within one check that still counts as steady (one V8 page), bytes. */
const STEADY_BYTES = 256 * 1024

/**
 * Gives memory back once the node goes quiet. After a burst of traffic V8
 * keeps the heap it grew (a larger young generation, pages it may reuse)
 * and collects it only when new allocation asks it to, which an idle node
 * never does. So every `checkMs` the node looks at how busy its event loop
 * was and whether its heap grew. Once a check finds it idle (utilisation
 * below `idleBelow`) with a steady heap that is `minGrowthBytes` larger than
 * after the last collection, it runs one full collection that also shrinks
 * the heap. A busy node is never interrupted, and an idle one collects once,
 * not at every check. The first collection comes once start-up has settled.
 *
 * Needs V8's `gc` (the executable runs with --expose-gc); without it, for
 * example under `node dist/p2p-node.cjs`, this does nothing. Returns a stop function.
 */
export function startReclaiming (options: ReclaimOptions): () => void {
  const gc = (globalThis as { gc?: ExposedGc }).gc
  if (typeof gc !== 'function') return () => {}
  let baseline = 0
  let previous = getHeapStatistics().total_physical_size
  let last = performance.eventLoopUtilization()
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization()
    const busy = performance.eventLoopUtilization(now, last).utilization
    last = now
    const heapBefore = getHeapStatistics().total_physical_size
    const steady = heapBefore - previous < STEADY_BYTES
    previous = heapBefore
    if (busy >= options.idleBelow || !steady || heapBefore - baseline < options.minGrowthBytes) return
    const started = performance.now()
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' })
    baseline = previous = getHeapStatistics().total_physical_size
    options.onReclaim?.({ ms: performance.now() - started, heapBefore, heapAfter: baseline })
  }, options.checkMs)
  timer.unref()
  return () => { clearInterval(timer) }
}
