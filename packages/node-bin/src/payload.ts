import { encodeLine } from '@p2p-node/protocol'
import type { MessageEvent } from '@p2p-node/protocol'
import { memberText } from './json-text.js'
import type { Line } from './output.js'

/** How a JSON value travels between peers: its UTF-8 JSON encoding. */
export function encodePayload (data: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(data), 'utf8')
}

/**
 * The payload of a command's `data`: its text as written in the command's
 * line, found without printing the parsed value again (encodePayload took
 * 3.8 µs of a 1 KiB send, finding the text 0.7 µs); the printed value when the
 * line has no single top-level "data" member.
 */
export function payloadOf (data: unknown, line: string): Uint8Array {
  const text = memberText(line, 'data')
  return text === undefined ? encodePayload(data) : Buffer.from(text, 'utf8')
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** The `data` of a received payload, or `dataBase64` when it is not UTF-8 JSON. */
function decodePayload (bytes: Uint8Array): { data: unknown } | { dataBase64: string } {
  try {
    return { data: JSON.parse(utf8.decode(bytes)) }
  } catch {
    return { dataBase64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') }
  }
}

/** A message event without its payload. */
export type MessageBase = Omit<MessageEvent, 'data' | 'dataBase64'>

/**
 * The stdout line of a message event carrying `bytes`: `data` when they are
 * UTF-8 JSON, else `dataBase64`. JSON goes into the line as the sender wrote
 * it where it safely can (see spliceMessageLine), so that a message is parsed
 * once to check it and never printed again.
 */
export function encodeMessage (base: MessageBase, bytes: Uint8Array): Line {
  return spliceMessageLine(base, bytes) ?? printMessageLine(base, bytes)
}

/** Deeper nesting than this is left to printMessageLine, which knows what it cannot print. */
const MAX_SPLICED_DEPTH = 1_000
const OPENERS = [0x5b, 0x7b] // [ {
const LF = 0x0a
const CR = 0x0d
/** Keeps a byte order mark, which JSON.parse then refuses: printMessageLine drops it as before. */
const utf8KeepingBom = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * The line with the payload's own bytes as `data`, or undefined where that
 * would differ from the printed form in a way a reader could notice: bytes that
 * are not UTF-8 JSON, JSON with a line break between its tokens (it would end
 * the line), a leading byte order mark, nesting that deep, or a number beyond
 * the range of a double (printed, it becomes null; as written, strict parsers
 * such as Go's and serde_json refuse the whole line).
 */
function spliceMessageLine (base: MessageBase, bytes: Uint8Array): Buffer | undefined {
  const payload = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  if (payload.indexOf(LF) >= 0 || payload.indexOf(CR) >= 0 || tooDeep(payload)) return undefined
  try {
    if (!allFinite(JSON.parse(utf8KeepingBom.decode(payload)))) return undefined
  } catch {
    return undefined
  }
  const head = encodeLine(base)
  // `{…}\n` becomes `{…,"data":<payload>}\n`.
  return Buffer.concat([Buffer.from(`${head.slice(0, -2)},"data":`), payload, CLOSE_LINE])
}

const CLOSE_LINE = Buffer.from('}\n')

/** Whether `payload` may nest more than MAX_SPLICED_DEPTH deep: it opens that many arrays and objects. */
function tooDeep (payload: Buffer): boolean {
  // Each level takes two bytes at least.
  if (payload.byteLength <= 2 * MAX_SPLICED_DEPTH) return false
  let opened = 0
  for (const opener of OPENERS) {
    for (let at = payload.indexOf(opener); at >= 0; at = payload.indexOf(opener, at + 1)) {
      if (++opened >= MAX_SPLICED_DEPTH) return true
    }
  }
  return false
}

/** Whether every number in a parsed JSON value is finite (JSON.parse gives ±Infinity for 1e400). */
function allFinite (value: unknown): boolean {
  if (typeof value === 'number') return Number.isFinite(value)
  if (typeof value !== 'object' || value === null) return true
  for (const item of Array.isArray(value) ? value : Object.values(value)) if (!allFinite(item)) return false
  return true
}

/**
 * The line with the payload parsed and printed again: `data`, or `dataBase64`
 * when the bytes are not JSON or are JSON nested too deeply to be printed
 * (JSON.parse accepts deeper nesting than JSON.stringify can print).
 */
function printMessageLine (base: MessageBase, bytes: Uint8Array): string {
  try {
    return encodeLine({ ...base, ...decodePayload(bytes) } as MessageEvent)
  } catch (err) {
    if (!(err instanceof RangeError)) throw err
    return encodeLine({ ...base, dataBase64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') } as MessageEvent)
  }
}
