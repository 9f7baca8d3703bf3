import type * as z from 'zod/mini'
import { CommandSchema, COMMAND_SCHEMAS, COMMAND_TYPES, commandTypeOf } from './commands.js'
import { EventSchema } from './events.js'
import { hotCommand, hotEvent } from './hot-paths.js'
import { ProtocolError } from './errors.js'
import { RequestIdSchema } from './common.js'
import type { Command } from './commands.js'
import type { Event } from './events.js'
import type { RequestId } from './common.js'

/** Serialises one protocol object as a line: compact JSON and "\n". */
export function encodeLine (value: object): string {
  return JSON.stringify(value) + '\n'
}

export type Decoded<T> =
  | { ok: true, value: T }
  | { ok: false, error: ProtocolError, id?: RequestId }

/**
 * Parses one line (without its "\n") against a schema. `hot`, if given, may
 * take the parsed object first (see hot-paths.ts). Never throws: failures
 * come back as a ProtocolError with code INVALID_JSON or INVALID_COMMAND.
 */
export function decodeLine<S extends z.ZodMiniType> (schema: S, line: string, hot?: (fields: Record<string, unknown>) => z.infer<S> | undefined): Decoded<z.infer<S>> {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (err) {
    return { ok: false, error: new ProtocolError('INVALID_JSON', `line is not valid JSON (${(err as Error).message}); send one JSON object per line`) }
  }
  if (hot !== undefined && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const taken = hot(value as Record<string, unknown>)
    if (taken !== undefined) return { ok: true, value: taken }
  }
  const parsed = schema.safeParse(value)
  if (parsed.success) return { ok: true, value: parsed.data }
  return { ok: false, error: new ProtocolError('INVALID_COMMAND', formatIssues(parsed.error)) }
}

/** Parses an event line: decodeLine with EventSchema, message events and send and publish results taken by hotEvent. */
export function decodeEvent (line: string): Decoded<Event> {
  return decodeLine(EventSchema, line, hotEvent)
}

const knownTypes = new Set<string>(COMMAND_TYPES)

/**
 * Parses a command line as the node does: INVALID_JSON for bad JSON,
 * INVALID_COMMAND for a non-object, a missing type or a bad field (named in the
 * message), UNKNOWN_COMMAND for a type no command has. Whenever the line held a
 * usable `id`, the failure carries it so the error reply can be tied to it.
 */
export function decodeCommand (line: string): Decoded<Command> {
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch (err) {
    return { ok: false, error: new ProtocolError('INVALID_JSON', `line is not valid JSON (${(err as Error).message}); send one JSON object per line`) }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: new ProtocolError('INVALID_COMMAND', `a command is a JSON object with a "type" field, got ${describe(value)}`) }
  }
  const record = value as Record<string, unknown>
  const hot = hotCommand(record)
  if (hot !== undefined) return { ok: true, value: hot }
  const idResult = RequestIdSchema.safeParse(record.id)
  const id = idResult.success ? idResult.data : undefined
  const fail = (error: ProtocolError): Decoded<Command> => id === undefined ? { ok: false, error } : { ok: false, error, id }

  if (record.id !== undefined && !idResult.success) {
    return fail(new ProtocolError('INVALID_COMMAND', 'field "id": must be a string of at most 256 characters or a safe integer'))
  }
  if (typeof record.type !== 'string') {
    return fail(new ProtocolError('INVALID_COMMAND', `field "type": required string naming the command, one of ${COMMAND_TYPES.join(', ')}`))
  }
  if (!knownTypes.has(record.type)) {
    return fail(new ProtocolError('UNKNOWN_COMMAND', `unknown command type ${JSON.stringify(record.type.slice(0, 64))}; known commands: ${COMMAND_TYPES.join(', ')}`))
  }
  const parsed = CommandSchema.safeParse(value)
  if (parsed.success) return { ok: true, value: parsed.data }
  return fail(new ProtocolError('INVALID_COMMAND', `${record.type}: ${formatIssues(parsed.error, record.type)}`))
}

/** Each command's fields, for the message about a field it does not have. */
const commandFields = new Map<string, string>(COMMAND_SCHEMAS.map((schema) => [commandTypeOf(schema), Object.keys(schema.shape).join(', ')]))

function formatIssues (error: z.core.$ZodError, commandType?: string): string {
  return error.issues.slice(0, 3).map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      // Rejected rather than dropped: a misspelt optional field (timeoutMs, bootstrapPeers) would otherwise go unnoticed.
      const where = issue.path.map(String).join('.')
      const names = issue.keys.map((key) => `"${where === '' ? '' : `${where}.`}${key.slice(0, 64)}"`).join(', ')
      const known = where === '' && commandType !== undefined ? `; ${commandType} takes ${commandFields.get(commandType) ?? ''}` : ''
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${names}${known}`
    }
    const path = issue.path.map(String).join('.')
    return path === '' ? issue.message : `field "${path}": ${issue.message}`
  }).join('; ')
}

function describe (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return `a ${typeof value}`
}
