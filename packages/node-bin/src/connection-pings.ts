import type { AbortOptions, Connection, Libp2p } from '@libp2p/interface'

/** A stream muxer that can ping its peer (yamux: a ping frame, answered by the peer's muxer). */
interface PingingMuxer {
  /** Resolves with the round-trip time, ms. */
  ping: (options: AbortOptions) => Promise<number>
}

/**
 * The connection's muxer, if it can ping. libp2p keeps the muxer in a field
 * that its Connection type does not declare; a connection without one (or
 * with a muxer that cannot ping) gets no round trip, and `peers` leaves out
 * its latencyMs.
 */
function pingingMuxerOf (connection: Connection): PingingMuxer | undefined {
  const muxer = (connection as { muxer?: Partial<PingingMuxer> }).muxer
  return typeof muxer?.ping === 'function' ? muxer as PingingMuxer : undefined
}

export interface ConnectionPingsInit {
  /** Average time between two pings of one connection, ms. */
  intervalMs: number
  /** How long one ping may take, ms. */
  timeoutMs: number
  /** A number in [0, 1): Math.random unless a test needs its own. */
  random?: () => number
}

/**
 * Measures the round-trip time of each connection (connection.rtt, which
 * `peers` reports as latencyMs) with a yamux ping, each connection on a
 * schedule of its own: the first ping at a random point of the first interval
 * after it opened, the next ones an interval apart, give or take 10 %. The
 * pings also keep the connection from looking idle to NATs and firewalls on
 * its way, which is why yamux's own keep-alive is off (libp2p.ts).
 *
 * A yamux ping is one 12-byte frame each way, which the peer's muxer answers
 * itself. These pings used to run the ping protocol instead: a stream opened,
 * negotiated, echoed and closed at both ends, with yamux's keep-alive pinging
 * every 30 s besides. 50 idle nodes on this machine, after discovering each
 * other (11–20 connections each), then used 10.0–10.6 ms of CPU a second each;
 * with yamux pings alone, 6.6–6.7 ms (30 s windows, two runs of each).
 *
 * libp2p's connection monitor, which this replaces, pinged every connection of
 * a node in the same instant, once an interval from the node's start. Nodes
 * started together (50 on one machine, in the benchmark) then all pinged all
 * their connections in the same second, about 2 600 ping streams every minute,
 * which took the machine for a few seconds and held up whatever it was doing,
 * publishes included. A failed ping changes nothing: a slow ping is not a dead
 * connection (TCP finds those), so it never closes one.
 */
export class ConnectionPings {
  private readonly timers = new Map<Connection, NodeJS.Timeout>()
  private readonly random: () => number
  private running = false

  constructor (private readonly node: Pick<Libp2p, 'addEventListener' | 'removeEventListener' | 'getConnections'>, private readonly init: ConnectionPingsInit) {
    this.random = init.random ?? Math.random
  }

  /** Connections with a ping scheduled (for tests). */
  get scheduled (): number {
    return this.timers.size
  }

  start (): void {
    if (this.running) return
    this.running = true
    this.node.addEventListener('connection:open', this.onOpen)
    this.node.addEventListener('connection:close', this.onClose)
    for (const connection of this.node.getConnections()) this.schedule(connection, this.random() * this.init.intervalMs)
  }

  stop (): void {
    this.running = false
    this.node.removeEventListener('connection:open', this.onOpen)
    this.node.removeEventListener('connection:close', this.onClose)
    for (const timer of this.timers.values()) clearTimeout(timer)
    this.timers.clear()
  }

  private readonly onOpen = (event: CustomEvent<Connection>): void => {
    this.schedule(event.detail, this.random() * this.init.intervalMs)
  }

  private readonly onClose = (event: CustomEvent<Connection>): void => {
    clearTimeout(this.timers.get(event.detail))
    this.timers.delete(event.detail)
  }

  private schedule (connection: Connection, delayMs: number): void {
    if (!this.running || connection.status !== 'open') return
    const timer = setTimeout(() => {
      void this.measure(connection).finally(() => {
        if (this.timers.get(connection) !== timer) return
        this.timers.delete(connection)
        this.schedule(connection, this.init.intervalMs * (0.9 + 0.2 * this.random()))
      })
    }, delayMs)
    timer.unref()
    this.timers.set(connection, timer)
  }

  /** One ping over this connection; sets connection.rtt. */
  private async measure (connection: Connection): Promise<void> {
    const muxer = pingingMuxerOf(connection)
    if (muxer === undefined) return
    try {
      connection.rtt = await muxer.ping({ signal: AbortSignal.timeout(this.init.timeoutMs) })
    } catch {
      // Timed out, or the connection went away: measured again next time, if it is still open.
    }
  }
}
