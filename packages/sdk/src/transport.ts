import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { LineSplitter, decodeEvent } from '@p2p-node/protocol'
import type { Event, SplitLine } from '@p2p-node/protocol'
import { MAX_EVENT_LINE_BYTES, STDERR_TAIL_BYTES } from './constants.js'

export interface ChildExit {
  code: number | null
  signal: NodeJS.Signals | null
  /** Set when the process could not be spawned at all. */
  error?: Error
}

export interface TransportInit {
  binaryPath: string
  args: string[]
  env: NodeJS.ProcessEnv
  onEvent: (event: Event) => void
  /** A stdout line that is not a protocol event. */
  onInvalidLine: (line: string, reason: string) => void
}

/**
 * The child process and its line I/O: spawns the executable, parses each
 * stdout line (with a carry-over buffer) into an event, writes commands to
 * stdin respecting backpressure, keeps the tail of stderr.
 */
export class ChildTransport {
  readonly exited: Promise<ChildExit>
  private readonly child: ChildProcessWithoutNullStreams
  private stderrTail = ''
  private exit: ChildExit | undefined

  constructor (init: TransportInit) {
    // Throws synchronously for some failures (ETXTBSY, …); asynchronous ones arrive as 'error'.
    this.child = spawn(init.binaryPath, init.args, { env: init.env, stdio: ['pipe', 'pipe', 'pipe'] })
    const splitter = new LineSplitter({ maxLineBytes: MAX_EVENT_LINE_BYTES })
    const onItem = (item: SplitLine): void => {
      if (item.kind === 'too_long') return init.onInvalidLine('', `line of ${item.bytes} bytes is too long`)
      if (item.kind === 'invalid_utf8') return init.onInvalidLine('', 'line is not valid UTF-8')
      const decoded = decodeEvent(item.text)
      if (decoded.ok) init.onEvent(decoded.value)
      else init.onInvalidLine(item.text, decoded.error.message)
    }
    this.child.stdout.on('data', (chunk: Buffer) => { for (const item of splitter.push(chunk)) onItem(item) })
    this.child.stdout.on('end', () => { for (const item of splitter.end()) onItem(item) })
    this.child.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_BYTES)
    })
    // Writes to a child that died fail with EPIPE; the exit is reported on its own.
    this.child.stdin.on('error', () => {})

    this.exited = new Promise((resolve) => {
      const settle = (exit: ChildExit): void => {
        if (this.exit !== undefined) return
        this.exit = exit
        resolve(exit)
      }
      this.child.once('exit', (code, signal) => { settle({ code, signal }) })
      this.child.once('error', (error) => { settle({ code: null, signal: null, error }) })
    })
  }

  get pid (): number | undefined {
    return this.child.pid
  }

  /** True until the child has exited. */
  get alive (): boolean {
    return this.exit === undefined
  }

  /** The last few KiB the child wrote to stderr. */
  get stderr (): string {
    return this.stderrTail
  }

  /**
   * Writes one encoded line; resolves once the child's stdin took it (waiting
   * for 'drain' if needed). The lines written in one turn of the event loop go
   * out in one write (cork until the next tick), so that a burst of commands
   * costs the child one read rather than one per command.
   */
  async writeLine (line: string): Promise<void> {
    if (!this.alive || !this.child.stdin.writable) return
    if (!this.corked) {
      this.corked = true
      this.child.stdin.cork()
      process.nextTick(this.uncork)
    }
    if (!this.child.stdin.write(line)) await this.stdinDrained()
  }

  private corked = false
  private readonly uncork = (): void => {
    this.corked = false
    this.child.stdin.uncork()
  }

  /** One pending wait for 'drain' (or 'close'), shared by every write made while stdin is full. */
  private drainWait: Promise<void> | undefined

  private async stdinDrained (): Promise<void> {
    this.drainWait ??= new Promise<void>((resolve) => {
      const done = (): void => {
        this.child.stdin.off('drain', done)
        this.child.stdin.off('close', done)
        this.drainWait = undefined
        resolve()
      }
      this.child.stdin.once('drain', done)
      this.child.stdin.once('close', done)
    })
    await this.drainWait
  }

  /** Closes the child's stdin: p2p-node treats that as a shutdown. */
  endInput (): void {
    if (this.child.stdin.writable) this.child.stdin.end()
  }

  signal (signal: NodeJS.Signals): void {
    if (this.alive) this.child.kill(signal)
  }

  /** Resolves true if the child exited within timeoutMs. */
  async exitsWithin (timeoutMs: number): Promise<boolean> {
    if (!this.alive) return true
    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<false>((resolve) => { timer = setTimeout(() => { resolve(false) }, timeoutMs) })
    try {
      return await Promise.race([this.exited.then(() => true), timeout])
    } finally {
      clearTimeout(timer)
    }
  }
}

