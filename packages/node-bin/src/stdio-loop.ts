import { LineSplitter, ProtocolError, decodeCommand } from '@p2p-node/protocol'
import type { Command, Event, RequestId, SplitLine } from '@p2p-node/protocol'
import type { EventSink } from './output.js'
import { errorEvent } from './output.js'
import { MAX_PENDING_COMMANDS } from './constants.js'

export interface StdioLoopInit {
  input: NodeJS.ReadableStream
  sink: EventSink
  maxLineBytes: number
  /** Runs a command (read from `line`) and resolves with its result fields, or throws. */
  execute: (cmd: Command, line: string) => Promise<object>
  /** Called for a thrown value that is not a ProtocolError, before it is reported as INTERNAL. */
  onUnexpected: (err: unknown, cmd: Command) => void
  /** Called once when the input ends. */
  onEnd: () => void
  /** Whether the reader of our output is behind; while it is, stdin is not read. */
  congested: () => boolean
  /** Resolves once the output is read again. */
  writable: () => Promise<void>
}

export interface StdioLoop {
  /**
   * Answers every command still running with an error, so that each still gets
   * exactly one reply when the process exits; their late outcomes are dropped.
   */
  abandonPending: (error: ProtocolError) => void
  /** Resolves once no command is running, or after timeoutMs. */
  settled: (timeoutMs: number) => Promise<void>
}

/**
 * Reads commands line by line and answers each with exactly one result or
 * error. Commands run concurrently; a failure in one never touches another.
 */
export function runStdioLoop (init: StdioLoopInit): StdioLoop {
  const { input, sink } = init
  const splitter = new LineSplitter({ maxLineBytes: init.maxLineBytes })
  /** Commands started and not yet answered. */
  const pending = new Set<Command>()
  let onSettled: (() => void) | undefined
  const answered = (cmd: Command): boolean => {
    const was = pending.delete(cmd)
    if (pending.size === 0) onSettled?.()
    if (paused && pending.size <= MAX_PENDING_COMMANDS / 2) resume()
    return was
  }

  const handleLine = (text: string): void => {
    if (text.trim() === '') return
    const decoded = decodeCommand(text)
    if (!decoded.ok) {
      sink.emit(errorEvent(decoded.error.code, decoded.error.message, decoded.id))
      return
    }
    const cmd = decoded.value
    pending.add(cmd)
    init.execute(cmd, text).then(
      (fields) => {
        if (answered(cmd)) sink.emit(resultEvent(cmd, fields))
      },
      (err: unknown) => {
        if (!answered(cmd)) return
        if (!(err instanceof ProtocolError)) init.onUnexpected(err, cmd)
        const error = err instanceof ProtocolError ? err : new ProtocolError('INTERNAL', `${cmd.type} failed unexpectedly: ${(err as Error)?.message ?? String(err)} (details on stderr)`)
        sink.emit(errorEvent(error.code, error.message, cmd.id))
      }
    )
  }

  const handle = (items: Iterable<SplitLine>): void => {
    for (const item of items) {
      if (item.kind === 'line') handleLine(item.text)
      else if (item.kind === 'too_long') sink.emit(errorEvent('LINE_TOO_LONG', `line of ${item.bytes} bytes discarded: longer than --max-line-bytes ${init.maxLineBytes}`))
      else sink.emit(errorEvent('INVALID_JSON', 'line is not valid UTF-8; send UTF-8 JSON, one object per line'))
    }
  }

  let paused = false
  const resume = (): void => {
    if (!paused || pending.size > MAX_PENDING_COMMANDS / 2) return
    // The drain that woke us may have been filled again at once: wait for the next one.
    if (init.congested()) {
      void init.writable().then(resume)
      return
    }
    paused = false
    input.resume()
  }
  input.on('data', (chunk: Buffer | string) => {
    handle(splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk))
    // A parent that writes commands faster than they complete, or does not read
    // the replies, is held back rather than buffered for.
    if (paused) return
    if (init.congested()) {
      paused = true
      input.pause()
      void init.writable().then(resume)
    } else if (pending.size >= MAX_PENDING_COMMANDS) {
      paused = true
      input.pause()
    }
  })
  let ended = false
  const end = (): void => {
    if (ended) return
    ended = true
    init.onEnd()
  }
  input.on('end', () => {
    handle(splitter.end())
    end()
  })
  input.on('error', end)

  return {
    abandonPending: (error) => {
      for (const cmd of pending) sink.emit(errorEvent(error.code, error.message, cmd.id))
      pending.clear()
    },
    settled: async (timeoutMs) => {
      if (pending.size === 0) return
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs)
        onSettled = () => {
          clearTimeout(timer)
          resolve()
        }
      })
      onSettled = undefined
    }
  }
}

function resultEvent (cmd: Command, fields: object): Event {
  const envelope: Record<string, unknown> = { type: 'result' }
  if (cmd.id !== undefined) envelope.id = cmd.id satisfies RequestId
  envelope.command = cmd.type
  return Object.assign(envelope, fields) as Event
}
