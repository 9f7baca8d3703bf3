import type { Logger } from './output.js'
import type { Libp2pNode } from './libp2p.js'
import { parseMultiaddr } from './errors.js'

/** First and longest pause between dials of an unreachable bootstrap peer, ms. */
const RETRY_MS = { first: 500, max: 30_000 }

/**
 * Keeps the node connected to its bootstrap peers: dials each at start,
 * retries with backoff until it answers, and redials it whenever its
 * connection drops (a bootstrap node restarting, a flaky link). The
 * @libp2p/bootstrap module tags them so the connection manager never prunes
 * them, but it does not retry a failed first dial.
 */
export class BootstrapKeeper {
  private readonly timers = new Set<NodeJS.Timeout>()
  private readonly peerIds = new Map<string, string>()
  private stopped = false

  constructor (private readonly node: Libp2pNode, private readonly addrs: string[], private readonly log: Logger, private readonly dialTimeoutMs: number) {}

  start (): void {
    for (const addr of this.addrs) void this.dial(addr, RETRY_MS.first)
    this.node.addEventListener('peer:disconnect', (event) => {
      const peerId = event.detail.toString()
      for (const [addr, id] of this.peerIds) if (id === peerId && !this.stopped) this.schedule(addr, RETRY_MS.first)
    })
  }

  stop (): void {
    this.stopped = true
    for (const timer of this.timers) clearTimeout(timer)
    this.timers.clear()
  }

  private async dial (addr: string, pause: number): Promise<void> {
    if (this.stopped) return
    try {
      const connection = await this.node.dial(parseMultiaddr(addr, 'bootstrap'), { signal: AbortSignal.timeout(this.dialTimeoutMs) })
      this.peerIds.set(addr, connection.remotePeer.toString())
    } catch (err) {
      if (this.stopped) return
      const next = Math.min(pause * 2, RETRY_MS.max)
      this.log.warn('could not dial a bootstrap peer; retrying', { addr, retryInMs: next, reason: (err as Error).message })
      this.schedule(addr, next)
    }
  }

  private schedule (addr: string, pause: number): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer)
      void this.dial(addr, pause)
    }, pause)
    this.timers.add(timer)
  }
}
