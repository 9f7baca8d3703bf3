import type { HistoryMessage } from './message.js'

interface OriginQueue {
  /** The wanted sequence numbers of one origin, ascending. */
  order: bigint[]
  /** Index in `order` of the next message to release. */
  next: number
  /** Arrived (a message) or given up (null), not yet released. */
  settled: Map<bigint, HistoryMessage | null>
}

/**
 * Releases replayed messages in their origin's publish order, whatever order
 * they arrive in from the peers serving them: a message waits until every
 * earlier wanted message of the same origin has arrived or been given up.
 * Origins do not wait for each other.
 */
export class ReplayOrder {
  private readonly origins = new Map<string, OriginQueue>()

  constructor (wanted: Iterable<{ from: string, seqno: bigint }>) {
    for (const { from, seqno } of wanted) {
      let queue = this.origins.get(from)
      if (queue === undefined) {
        queue = { order: [], next: 0, settled: new Map() }
        this.origins.set(from, queue)
      }
      queue.order.push(seqno)
    }
    for (const queue of this.origins.values()) queue.order.sort((a, b) => a < b ? -1 : a > b ? 1 : 0)
  }

  /** A wanted message arrived: returns the messages it releases, in order. */
  arrived (message: HistoryMessage): HistoryMessage[] {
    return this.settle(message.from, message.seqno, message)
  }

  /** A wanted message will not arrive: returns the messages that were waiting for it. */
  givenUp (from: string, seqno: bigint): HistoryMessage[] {
    return this.settle(from, seqno, null)
  }

  private settle (from: string, seqno: bigint, message: HistoryMessage | null): HistoryMessage[] {
    const queue = this.origins.get(from)
    if (queue === undefined) return []
    queue.settled.set(seqno, message)
    const released: HistoryMessage[] = []
    for (let next = queue.order[queue.next]; next !== undefined && queue.settled.has(next); next = queue.order[++queue.next]) {
      const ready = queue.settled.get(next)
      queue.settled.delete(next)
      if (ready != null) released.push(ready)
    }
    return released
  }
}
