import { PassThrough, Writable } from 'node:stream'
import { createRequire } from 'node:module'
import { queryObjects, startupSnapshot } from 'node:v8'
import { LineSplitter } from '@p2p-node/protocol'
import { main } from './main.js'
import { DEFAULT_MAX_LINE_BYTES } from './constants.js'

/** How long the warm-up may take before the build fails, ms. */
const WARM_UP_LIMIT_MS = 30_000

/**
 * Runs while the executable's startup snapshot is built: runs two nodes
 * (connectTwoNodes), so that the code of a whole start and stop, and of a
 * connection at both ends (dial, Noise, yamux, identify), is compiled into the
 * snapshot rather than at each start and at a node's first connection.
 * Against the one-node warm-up it replaced: a first `connect` between two
 * fresh nodes took 46 ms instead of 63 (medians of 15 interleaved pairs), and
 * exec until connected to a running node 188 ms instead of 198 (`pnpm bench
 * --only startup`); the snapshot grew by 0.2–0.3 MiB, and interleaved starts put
 * ready 4–8 ms later (medians of 40–60).
 */
export async function warmUp (): Promise<void> {
  await connectTwoNodes(WARM_UP_LIMIT_MS)
  // The process that deserializes the snapshot installs its own.
  process.removeAllListeners('SIGTERM')
  process.removeAllListeners('SIGINT')
  // V8 refuses to write a snapshot while a FinalizationRegistry (AbortSignal.timeout
  // uses one) still has cleanups pending: collect first, so that they run
  // before the snapshot. queryObjects runs a full garbage collection; there is
  // no gc() in the builder. (The builder's event loop does not run again after
  // beforeExit: a timer set here never fires.)
  process.once('beforeExit', () => { queryObjects(AbortSignal) })
  startupSnapshot.addSerializeCallback(clearTimerBooks)
}

/**
 * Starts two nodes on 127.0.0.1 in this process, connects the second to the
 * first, asks each for its peers and shuts both down. Resolves with the peer
 * ids each listed; rejects, with both nodes' output, unless every step
 * answered within `limitMs` and both stopped cleanly.
 *
 * No message crosses. Once a node has sent one (direct, gossipsub, or a DHT
 * provide), timeout signals hold the stopped nodes until their timers run
 * out, errors with unformatted stacks among them, and V8's snapshot writer
 * cannot write those (std::length_error, Node 22.23.3). Waiting for the
 * timers (10-30 s) lets it build, for a few ms on a node's first message.
 */
export async function connectTwoNodes (limitMs: number): Promise<{ a: NodeSeen, b: NodeSeen }> {
  const a = new InProcessNode()
  const b = new InProcessNode()
  let limit: NodeJS.Timeout | undefined
  const late = new Promise<never>((_resolve, reject) => {
    limit = setTimeout(() => { reject(new Error(`did not finish within ${limitMs} ms`)) }, limitMs)
  })
  const steps = async (): Promise<{ a: NodeSeen, b: NodeSeen }> => {
    const [readyA, readyB] = await Promise.all([a.next('ready'), b.next('ready')])
    // The dial can end before the first node has seen the connection.
    const connected = Promise.all([a.next('peer_connected'), b.next('peer_connected')])
    await b.call({ type: 'connect', bootstrapPeers: [readyA.addrs[0]] })
    await connected
    const [peersA, peersB] = await Promise.all([a.call({ type: 'peers' }), b.call({ type: 'peers' })])
    await Promise.all([a.call({ type: 'shutdown' }), b.call({ type: 'shutdown' })])
    const codes = await Promise.all([a.exited, b.exited])
    if (codes.some((code) => code !== 0)) throw new Error(`the nodes exited with ${codes.join(' and ')}`)
    const seen = (ready: Line, peers: Line): NodeSeen => ({ peerId: ready.peerId, peers: peers.peers.map((peer: Line) => peer.peerId) })
    return { a: seen(readyA, peersA), b: seen(readyB, peersB) }
  }
  try {
    return await Promise.race([steps(), late])
  } catch (err) {
    // Stdin's end shuts a node down: none is left running after a failure.
    a.endInput()
    b.endInput()
    throw new Error(`two nodes in one process: ${(err as Error).message}; their output:\n${a.output}\n${b.output}`)
  } finally {
    clearTimeout(limit)
  }
}

/** A node's peer id and the peer ids its `peers` listed. */
export interface NodeSeen { peerId: string, peers: string[] }

type Line = Record<string, any>

/** A node that main() runs in this process, driven through in-memory stdio. */
class InProcessNode {
  readonly exited: Promise<number>
  /** Everything it wrote, stdout and stderr. */
  output = ''
  private readonly stdin = new PassThrough()
  private nextId = 1
  private readonly waiting: Array<{ match: (event: Line) => boolean, resolve: (event: Line) => void }> = []

  constructor () {
    const lines = new LineSplitter({ maxLineBytes: DEFAULT_MAX_LINE_BYTES })
    const stdout = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.output += String(chunk)
        for (const item of lines.push(chunk)) if (item.kind === 'line') this.dispatch(JSON.parse(item.text) as Line)
        done()
      }
    })
    const stderr = new Writable({ write: (chunk, _encoding, done) => { this.output += String(chunk); done() } })
    this.exited = main({ argv: ['--host', '127.0.0.1', '--port', '0'], env: {}, stdin: this.stdin, stdout, stderr })
  }

  /** The next event of this type. */
  async next (type: string): Promise<Line> {
    return await new Promise((resolve) => { this.waiting.push({ match: (event) => event.type === type, resolve }) })
  }

  /** Sends a command; resolves with its result, rejects with its error. */
  async call (command: Line): Promise<Line> {
    const id = this.nextId++
    const reply = new Promise<Line>((resolve) => { this.waiting.push({ match: (event) => event.id === id, resolve }) })
    this.stdin.write(JSON.stringify({ ...command, id }) + '\n')
    const event = await reply
    if (event.type === 'error') throw new Error(`${String(command.type)} failed: ${String(event.code)}: ${String(event.message)}`)
    return event
  }

  endInput (): void {
    this.stdin.end()
  }

  private dispatch (event: Line): void {
    const index = this.waiting.findIndex((waiter) => waiter.match(event))
    if (index !== -1) this.waiting.splice(index, 1)[0]?.resolve(event)
  }
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
