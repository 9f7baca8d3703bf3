import { encodeLine } from '@p2p-node/protocol'
import type { ErrorCode, Event, LogLevel, RequestId } from '@p2p-node/protocol'

/** The one place that writes to stdout. */
export interface EventSink {
  emit: (event: Event) => void
}

export interface LineWriterInit {
  /**
   * While the stream is full, droppable events (gossipsub messages) queue up to
   * this many bytes; beyond it they are dropped and counted, and one
   * BACKPRESSURE error reports the count once the stream drains.
   */
  maxBufferedBytes: number
}

/**
 * Writes events as lines to a stream and waits for 'drain' whenever the stream
 * asks it to. The first event of an event-loop turn is written at once, so a
 * lone reply or message does not wait for the turn to end (over a pipe that
 * wait cost about 0.06 ms per event); the events that follow it in the same
 * turn are batched into one more write at the turn's end. That write holds
 * back the next turn's events in the same way, so a sustained burst takes one
 * write per turn, not one per event.
 * Memory stays bounded when the reader stops reading: droppable events are
 * dropped past maxBufferedBytes, and the producers of the others (stdin,
 * direct-message streams) wait for `writable()` before taking more work.
 */
export class LineWriter implements EventSink {
  private readonly stream: NodeJS.WritableStream
  private readonly maxBufferedBytes: number
  private queue: Line[] = []
  private queuedBytes = 0
  /**
   * A write went out in this event-loop turn and turnEnded is due at its end:
   * the events emitted meanwhile wait for it.
   */
  private wroteThisTurn = false
  private waitingForDrain = false
  private dropped = 0
  private idle: Array<() => void> = []
  private writableWaiters: Array<() => void> = []
  /** The stream failed (its reader is gone): everything is discarded from now on. */
  private closed = false
  private told = 0

  constructor (stream: NodeJS.WritableStream, init: LineWriterInit) {
    this.stream = stream
    this.maxBufferedBytes = init.maxBufferedBytes
    stream.on('drain', () => {
      this.waitingForDrain = false
      this.reportDropped()
      this.flush()
      const waiting = this.writableWaiters
      this.writableWaiters = []
      for (const resolve of waiting) resolve()
    })
    // A closed stdout (parent gone) must not kill the node with EPIPE.
    stream.on('error', () => {
      this.queue = []
      this.queuedBytes = 0
      this.waitingForDrain = false
      this.closed = true
      this.settleIdle()
      for (const resolve of this.writableWaiters.splice(0)) resolve()
    })
  }

  /** True while the stream is full: producers should hold off. */
  get congested (): boolean {
    return this.waitingForDrain
  }

  /** Resolves once the stream takes writes again (at once if it does now). */
  async writable (): Promise<void> {
    if (!this.waitingForDrain) return
    await new Promise<void>((resolve) => { this.writableWaiters.push(resolve) })
  }

  /**
   * Events emitted so far other than `log` events: replies, messages, peer
   * events. It grows whenever the node does something for its parent; the
   * idle memory reclaim (reclaim.ts) reads it to tell a quiet node.
   */
  get eventsTold (): number {
    return this.told
  }

  emit (event: Event): void {
    if (event.type !== 'log') this.told++
    this.enqueue(encodeLine(event))
  }

  /** Emits an event already encoded as a line (by encodeLine or encodeMessage). */
  emitLine (line: Line): void {
    this.told++
    this.enqueue(line)
  }

  /** Emits an encoded event that may be dropped (and counted) when the reader is too slow; false if it was dropped. */
  emitLineDroppable (line: Line): boolean {
    this.told++
    if (this.waitingForDrain && this.queuedBytes >= this.maxBufferedBytes) {
      this.dropped++
      return false
    }
    this.enqueue(line)
    return true
  }

  /** Resolves once everything emitted so far has been handed to the stream. */
  async drained (): Promise<void> {
    if (this.queue.length === 0 && !this.waitingForDrain) return
    await new Promise<void>((resolve) => { this.idle.push(resolve) })
  }

  private enqueue (line: Line): void {
    if (this.closed) return
    this.queue.push(line)
    // Only what queues behind a full stream counts against maxBufferedBytes;
    // a flowing queue is written out whole at the next flush.
    if (this.waitingForDrain) this.queuedBytes += typeof line === 'string' ? Buffer.byteLength(line) : line.byteLength
    if (!this.wroteThisTurn) this.flush()
  }

  private reportDropped (): void {
    if (this.dropped === 0) return
    const dropped = this.dropped
    this.dropped = 0
    this.enqueue(encodeLine({ type: 'error', code: 'BACKPRESSURE', message: `stdout was not read fast enough: ${dropped} gossipsub messages were dropped; read stdout continuously, or raise --stdout-buffer-bytes`, dropped }))
  }

  private flush (): void {
    if (this.waitingForDrain) return
    if (this.queue.length === 0) {
      this.settleIdle()
      return
    }
    const chunk = this.queue.length === 1 ? this.queue[0] as Line : joinLines(this.queue)
    this.queue = []
    this.queuedBytes = 0
    if (!this.wroteThisTurn) {
      this.wroteThisTurn = true
      setImmediate(this.turnEnded)
    }
    if (this.stream.write(chunk)) {
      this.settleIdle()
    } else {
      this.waitingForDrain = true
    }
  }

  /** Writes what the turn queued after its first write; that write starts the next turn's wait. */
  private readonly turnEnded = (): void => {
    this.wroteThisTurn = false
    if (this.queue.length > 0) this.flush()
  }

  private settleIdle (): void {
    if (this.queue.length > 0) return
    const waiting = this.idle
    this.idle = []
    for (const resolve of waiting) resolve()
  }
}

/** One encoded event, "\n" included: text, or UTF-8 bytes. */
export type Line = string | Buffer

/** The lines as one chunk for one write. */
function joinLines (lines: Line[]): Line {
  if (lines.every((line) => typeof line === 'string')) return lines.join('')
  return Buffer.concat(lines.map((line) => typeof line === 'string' ? Buffer.from(line) : line))
}

const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 }

/** Sends `log` events at or above a level. */
export class Logger {
  constructor (private readonly sink: EventSink, private readonly level: LogLevel, private readonly namespace = 'p2p-node') {}

  child (namespace: string): Logger {
    return new Logger(this.sink, this.level, `${this.namespace}:${namespace}`)
  }

  error (message: string, meta?: Record<string, unknown>): void { this.log('error', message, meta) }
  warn (message: string, meta?: Record<string, unknown>): void { this.log('warn', message, meta) }
  info (message: string, meta?: Record<string, unknown>): void { this.log('info', message, meta) }
  debug (message: string, meta?: Record<string, unknown>): void { this.log('debug', message, meta) }

  private log (level: LogLevel, message: string, meta?: Record<string, unknown>): void {
    if (LEVELS[level] > LEVELS[this.level]) return
    this.sink.emit(meta === undefined
      ? { type: 'log', level, namespace: this.namespace, message }
      : { type: 'log', level, namespace: this.namespace, message, meta })
  }
}

/** An `error` event, with the id of the command it answers when there is one. */
export function errorEvent (code: ErrorCode, message: string, id?: RequestId): Event {
  return id === undefined ? { type: 'error', code, message } : { type: 'error', id, code, message }
}
