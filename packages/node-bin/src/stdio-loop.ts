import { LineSplitter, ProtocolError, decodeCommand } from '@p2p-node/protocol'
import type { Command, Event, RequestId } from '@p2p-node/protocol'
import type { EventSink } from './output.js'
import { errorEvent } from './output.js'

export interface StdioLoopInit {
  input: NodeJS.ReadableStream
  sink: EventSink
  maxLineBytes: number
  /** Runs a command and resolves with its result fields, or throws. */
  execute: (cmd: Command) => Promise<object>
  /** Called for a thrown value that is not a ProtocolError, before it is reported as INTERNAL. */
  onUnexpected: (err: unknown, cmd: Command) => void
  /** Called once when the input ends. */
  onEnd: () => void
}

/**
 * Reads commands line by line and answers each with exactly one result or
 * error. Commands run concurrently; a failure in one never touches another.
 */
export function runStdioLoop (init: StdioLoopInit): void {
  const { input, sink } = init
  const splitter = new LineSplitter({ maxLineBytes: init.maxLineBytes })

  const handleLine = (text: string): void => {
    if (text.trim() === '') return
    const decoded = decodeCommand(text)
    if (!decoded.ok) {
      sink.emit(errorEvent(decoded.error.code, decoded.error.message, decoded.id))
      return
    }
    const cmd = decoded.value
    init.execute(cmd).then(
      (fields) => { sink.emit(resultEvent(cmd, fields)) },
      (err: unknown) => {
        if (!(err instanceof ProtocolError)) init.onUnexpected(err, cmd)
        const error = err instanceof ProtocolError ? err : new ProtocolError('INTERNAL', `${cmd.type} failed unexpectedly: ${(err as Error)?.message ?? String(err)} (details on stderr)`)
        sink.emit(errorEvent(error.code, error.message, cmd.id))
      }
    )
  }

  const handle = (items: Iterable<ReturnType<LineSplitter['push']> extends Iterable<infer I> ? I : never>): void => {
    for (const item of items) {
      if (item.kind === 'line') handleLine(item.text)
      else if (item.kind === 'too_long') sink.emit(errorEvent('LINE_TOO_LONG', `line of ${item.bytes} bytes discarded: longer than --max-line-bytes ${init.maxLineBytes}`))
      else sink.emit(errorEvent('INVALID_JSON', 'line is not valid UTF-8; send UTF-8 JSON, one object per line'))
    }
  }

  input.on('data', (chunk: Buffer | string) => { handle(splitter.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk)) })
  input.on('end', () => {
    handle(splitter.end())
    init.onEnd()
  })
  input.on('error', () => { init.onEnd() })
}

function resultEvent (cmd: Command, fields: object): Event {
  const envelope: Record<string, unknown> = { type: 'result' }
  if (cmd.id !== undefined) envelope.id = cmd.id satisfies RequestId
  envelope.command = cmd.type
  return Object.assign(envelope, fields) as Event
}
