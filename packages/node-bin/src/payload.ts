import type { MessageEvent } from '@p2p-node/protocol'

/** How a JSON value travels between peers: its UTF-8 JSON encoding. */
export function encodePayload (data: unknown): Uint8Array {
  return Buffer.from(JSON.stringify(data), 'utf8')
}

const utf8 = new TextDecoder('utf-8', { fatal: true })

/** The `data` of a received payload, or `dataBase64` when it is not UTF-8 JSON. */
export function decodePayload (bytes: Uint8Array): { data: unknown } | { dataBase64: string } {
  try {
    return { data: JSON.parse(utf8.decode(bytes)) }
  } catch {
    return { dataBase64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') }
  }
}

/**
 * Emits a message event carrying `bytes`: as `data`, or as `dataBase64` when
 * they are not JSON, or are JSON nested too deeply to be written back out
 * (JSON.parse accepts deeper nesting than JSON.stringify can print).
 */
export function emitWithPayload<R> (emit: (event: MessageEvent) => R, base: Omit<MessageEvent, 'data' | 'dataBase64'>, bytes: Uint8Array): R {
  try {
    return emit({ ...base, ...decodePayload(bytes) } as MessageEvent)
  } catch (err) {
    if (!(err instanceof RangeError)) throw err
    return emit({ ...base, dataBase64: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64') } as MessageEvent)
  }
}
