import { performance } from 'node:perf_hooks'
import { getHeapStatistics } from 'node:v8'

/** The `gc` function V8 defines on globalThis under --expose-gc (the executable's flags). */
type ExposedGc = (options: { type: 'major', execution: 'sync', flavor: 'last-resort' }) => void

export interface ReclaimOptions {
  /** How often the node looks at how busy it was, ms. */
  checkMs: number
  /** Event-loop utilisation (0–1) over one check below which the node counts as idle. */
  idleBelow: number
  /** A count that grows whenever the node does something for its parent: a check over which it grew is not idle. */
  activity: () => number
  /** Checks in a row that must find the node idle before it collects. */
  idleChecks: number
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
 * was, whether it did anything for its parent, and whether its heap grew. A
 * check finds it idle when utilisation was below `idleBelow`, `activity` did
 * not change and the heap is steady. Once `idleChecks` checks in a row have
 * found it idle, with a heap `minGrowthBytes` larger than after the last
 * collection, it runs one full collection that also shrinks the heap. A
 * busy node is never interrupted, and an idle one collects once, not at
 * every check. The first collection comes once start-up has settled.
 *
 * Low utilisation alone is not idle: a node that receives a message every
 * few hundred ms is under 5 % busy, and the collection (tens of ms, far more
 * on a crowded machine) would hold up the next message. Nor is one quiet
 * check. With 50 nodes on 2 cores, and one check under 5 % busy enough,
 * 23–37 nodes collected while the others were still discovering, and 5
 * to 12 as the 30 publishes that followed began, each taking 0.3–1.2 s on the
 * crowded machine: the first publish took 0.8–1.0 s to reach every node, the
 * others at most 0.37 s. With three idle checks and the activity count, 2–5
 * collected during discovery and 0–1 during the publishes, and the slowest
 * publish took 0.38 and 0.75 s (two runs each, scratch).
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
  let lastActivity = options.activity()
  /** Checks in a row that found the node idle. */
  let idleFor = 0
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization()
    const busy = performance.eventLoopUtilization(now, last).utilization
    last = now
    const activity = options.activity()
    const heapBefore = getHeapStatistics().total_physical_size
    const idle = busy < options.idleBelow && activity === lastActivity && heapBefore - previous < STEADY_BYTES
    lastActivity = activity
    previous = heapBefore
    idleFor = idle ? idleFor + 1 : 0
    if (idleFor < options.idleChecks || heapBefore - baseline < options.minGrowthBytes) return
    const started = performance.now()
    gc({ type: 'major', execution: 'sync', flavor: 'last-resort' })
    baseline = previous = getHeapStatistics().total_physical_size
    options.onReclaim?.({ ms: performance.now() - started, heapBefore, heapAfter: baseline })
  }, options.checkMs)
  timer.unref()
  return () => { clearInterval(timer) }
}
