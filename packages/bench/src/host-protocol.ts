/**
 * The benchmark drives every implementation (the p2p-node sidecar through the
 * SDK, the same libp2p stack in-process, the libp2p daemon) through one
 * interface: a host process, forked by the runner, that answers these
 * operations over Node's IPC channel. The runner never sits on the data path:
 * each host sends, receives and times on its own.
 */
export interface HostOps {
  /**
   * Starts the node; `pid` is the process that runs libp2p (for RSS). The
   * direct-message rate limit is lifted unless `maxMessagesPerSecond` is given.
   */
  start: (args: { host: string, maxMessagesPerSecond?: number }) => Promise<{ peerId: string, addrs: string[], pid: number }>
  dial: (args: { addr: string }) => Promise<void>
  subscribe: (args: { topic: string }) => Promise<void>
  /** Resolves once `count` peers are known to subscribe to the topic. */
  waitSubscribers: (args: { topic: string, count: number, timeoutMs: number }) => Promise<void>
  /** Answers every direct message by sending it back to its sender. */
  echo: (args: { enabled: boolean }) => Promise<void>
  /** `count` direct messages of `size` bytes, at most `window` unacknowledged; resolves when all are acknowledged. */
  sendBurst: (args: { to: string, count: number, size: number, window: number }) => Promise<{ ms: number }>
  /** `count` sequential round trips to an echoing peer; resolves with each one's duration, ms. */
  rtt: (args: { to: string, count: number, size: number }) => Promise<{ samples: number[] }>
  /** `count` publishes of `size` bytes, at most `window` unanswered. */
  publishBurst: (args: { topic: string, count: number, size: number, window: number }) => Promise<{ ms: number }>
  /** Resolves once `count` topic messages arrived since the last reset (or fails after timeoutMs, reporting how many did). */
  waitReceived: (args: { count: number, timeoutMs: number }) => Promise<{ received: number, lastAt: number, latencies: number[] }>
  /** Forgets what was received. */
  resetReceived: (args: Record<string, never>) => Promise<void>
  stop: (args: Record<string, never>) => Promise<void>
  /** Sidecar host only: `count` `peers` commands one after another, `gapMs` apart; resolves with each one's round trip, ms. */
  commandRtt?: (args: { count: number, gapMs: number }) => Promise<{ samples: number[] }>
  /**
   * In-process host only: floods a peer on the direct-message protocol as a
   * rogue peer would, frames of `size` bytes as fast as the stream takes them,
   * never waiting for acknowledgements, a new stream each time one is reset.
   * Resolves once the first stream was reset; the flood goes on until `stopFlood`.
   */
  startFlood?: (args: { to: string, size: number }) => Promise<void>
  /** Stops the flood; resolves with what it sent and how many of its streams were reset. */
  stopFlood?: (args: Record<string, never>) => Promise<{ frames: number, ms: number, resets: number }>
}

export type OpName = keyof HostOps
export interface OpRequest { id: number, op: OpName, args: unknown }
export type OpReply = { id: number, ok: true, value: unknown } | { id: number, ok: false, error: string }

/** Wall-clock ms with sub-ms precision, comparable across processes on one machine. */
export function now (): number {
  return performance.timeOrigin + performance.now()
}

/** A JSON payload whose encoding is `size` bytes (or the smallest possible above it). */
export function payload (i: number, size: number): { i: number, t: number, p: string } {
  const body = { i, t: now(), p: '' }
  const overhead = JSON.stringify(body).length
  body.p = 'x'.repeat(Math.max(0, size - overhead))
  return body
}

/** Serves HostOps on the IPC channel until `stop`. */
export function serveOps (ops: HostOps): void {
  process.on('message', (message: OpRequest) => {
    const op = ops[message.op] as ((args: unknown) => Promise<unknown>) | undefined
    const run = op === undefined ? Promise.reject(new Error(`this host has no ${message.op} operation`)) : op(message.args)
    run.then(
      (value) => { process.send?.({ id: message.id, ok: true, value } satisfies OpReply) },
      (err: Error) => { process.send?.({ id: message.id, ok: false, error: err.stack ?? String(err) } satisfies OpReply) }
    ).finally(() => { if (message.op === 'stop') process.disconnect() })
  })
}

/** Runs `task` for each of `count` items with at most `window` running; resolves with the time it all took. */
export async function burst (count: number, window: number, task: (i: number) => Promise<unknown>): Promise<{ ms: number }> {
  const started = now()
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < count) await task(next++)
  }
  await Promise.all(Array.from({ length: Math.min(window, count) }, worker))
  return { ms: now() - started }
}

/** Sequential request/reply round trips to an echoing peer: the host calls `answered(i)` when the echo of request i arrives. */
export class RoundTrips {
  private readonly waiting = new Map<number, () => void>()

  answered (i: number): void {
    this.waiting.get(i)?.()
  }

  /** Sends request i with `send(i)` and waits for its echo, `count` times; resolves with each duration, ms. */
  async measure (count: number, send: (i: number) => Promise<unknown>): Promise<{ samples: number[] }> {
    const samples: number[] = []
    for (let i = 0; i < count; i++) {
      const started = now()
      const answered = new Promise<void>((resolve) => { this.waiting.set(i, resolve) })
      await send(i)
      await answered
      this.waiting.delete(i)
      samples.push(now() - started)
    }
    return { samples }
  }
}

/** waitSubscribers for every host: polls `subscribers()` (nothing announces a subscription's arrival) until it reaches `count`. */
export async function untilSubscribers (subscribers: () => Promise<number> | number, { topic, count, timeoutMs }: { topic: string, count: number, timeoutMs: number }): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (await subscribers() < count) {
    if (Date.now() > deadline) throw new Error(`fewer than ${count} subscribers on ${topic} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** Tracks received topic messages for waitReceived. */
export class Inbox {
  private received = 0
  private lastAt = 0
  private latencies: number[] = []
  private waiter: { count: number, resolve: () => void } | undefined

  add (sentAt: number): void {
    this.received++
    this.lastAt = now()
    this.latencies.push(this.lastAt - sentAt)
    if (this.waiter !== undefined && this.received >= this.waiter.count) this.waiter.resolve()
  }

  async wait (count: number, timeoutMs: number): Promise<{ received: number, lastAt: number, latencies: number[] }> {
    if (this.received < count) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs)
        this.waiter = { count, resolve: () => { clearTimeout(timer); resolve() } }
      })
      this.waiter = undefined
    }
    return { received: this.received, lastAt: this.lastAt, latencies: this.latencies }
  }

  reset (): void {
    this.received = 0
    this.lastAt = 0
    this.latencies = []
  }
}
