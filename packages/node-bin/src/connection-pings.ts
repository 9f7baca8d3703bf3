import type { Connection, Libp2p } from '@libp2p/interface'

/** The ping protocol's id: the peer echoes what it is sent. */
export const PING_PROTOCOL = '/ipfs/ping/1.0.0'
const PING_BYTES = 32

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
 * `peers` reports as latencyMs) with a ping, each connection on a schedule of
 * its own: the first ping at a random point of the first interval after it
 * opened, the next ones an interval apart, give or take 10 %.
 *
 * libp2p's connection monitor, which this replaces, pinged every connection of
 * a node in the same instant, once an interval from the node's start. Nodes
 * started together (50 on one machine, in the benchmark) then all pinged all
 * their connections in the same second, about 2 600 ping streams every minute,
 * which took the machine for a few seconds and held up whatever it was doing,
 * publishes included. A failed ping changes nothing: a slow ping is not a dead
 * connection (TCP and yamux find those), so it never closes one.
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
    const signal = AbortSignal.timeout(this.init.timeoutMs)
    try {
      const stream = await connection.newStream(PING_PROTOCOL, { signal, runOnLimitedConnection: true })
      try {
        const sent = crypto.getRandomValues(new Uint8Array(PING_BYTES))
        const started = Date.now()
        const echo = new Promise<Uint8Array>((resolve, reject) => {
          const received = new Uint8Array(PING_BYTES)
          let length = 0
          stream.addEventListener('message', (event) => {
            const chunk = event.data.subarray()
            received.set(chunk.subarray(0, PING_BYTES - length), length)
            length += chunk.byteLength
            if (length >= PING_BYTES) resolve(received)
          })
          stream.addEventListener('close', () => { reject(new Error('the stream closed before the echo')) })
          signal.addEventListener('abort', () => { reject(signal.reason) }, { once: true })
        })
        stream.send(sent)
        const received = await echo
        if (!received.every((byte, i) => byte === sent[i])) throw new Error('the echo differs from the ping')
        connection.rtt = Date.now() - started
        await stream.close({ signal })
      } catch (err) {
        stream.abort(err as Error)
        throw err
      }
    } catch {
      // Timed out, refused, or the connection went away: measured again next time, if it is still open.
    }
  }
}
