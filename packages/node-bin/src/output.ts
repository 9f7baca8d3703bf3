import { encodeLine } from '@p2p-node/protocol'
import type { ErrorCode, Event, LogLevel, RequestId } from '@p2p-node/protocol'

/** The one place that writes to stdout. */
export interface EventSink {
  emit: (event: Event) => void
}

/**
 * Writes events as lines to a stream, batching every event of one event-loop
 * turn into one write and waiting for 'drain' whenever the stream asks it to.
 */
export class LineWriter implements EventSink {
  private readonly stream: NodeJS.WritableStream
  private queue: string[] = []
  private scheduled = false
  private waitingForDrain = false
  private idle: Array<() => void> = []

  constructor (stream: NodeJS.WritableStream) {
    this.stream = stream
    stream.on('drain', () => {
      this.waitingForDrain = false
      this.flush()
    })
    // A closed stdout (parent gone) must not kill the node with EPIPE.
    stream.on('error', () => {
      this.queue = []
      this.waitingForDrain = false
      this.settleIdle()
    })
  }

  emit (event: Event): void {
    this.queue.push(encodeLine(event))
    if (!this.scheduled && !this.waitingForDrain) {
      this.scheduled = true
      setImmediate(() => { this.flush() })
    }
  }

  /** Resolves once everything emitted so far has been handed to the stream. */
  async drained (): Promise<void> {
    if (this.queue.length === 0 && !this.waitingForDrain) return
    await new Promise<void>((resolve) => { this.idle.push(resolve) })
  }

  private flush (): void {
    this.scheduled = false
    if (this.waitingForDrain) return
    if (this.queue.length === 0) {
      this.settleIdle()
      return
    }
    const chunk = this.queue.length === 1 ? this.queue[0] as string : this.queue.join('')
    this.queue = []
    if (this.stream.write(chunk)) {
      this.settleIdle()
    } else {
      this.waitingForDrain = true
    }
  }

  private settleIdle (): void {
    if (this.queue.length > 0) return
    const waiting = this.idle
    this.idle = []
    for (const resolve of waiting) resolve()
  }
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
