import { RPC_TAG } from './constants.js'

/**
 * request()/onRequest() travel as ordinary direct messages (`send`), with the
 * correlation inside the payload:
 *
 *   request:  {"p2p-node/rpc/1": "request",  "rid": "<unique>", "body": <any JSON>}
 *   response: {"p2p-node/rpc/1": "response", "rid": "<same>", "body": <any JSON>}
 *   failure:  {"p2p-node/rpc/1": "response", "rid": "<same>", "error": "<message>"}
 *
 * Any client that speaks the protocol can answer or issue requests this way.
 */
export type RpcEnvelope =
  | { [RPC_TAG]: 'request', rid: string, body: unknown }
  | { [RPC_TAG]: 'response', rid: string, body: unknown }
  | { [RPC_TAG]: 'response', rid: string, error: string }

export function requestEnvelope (rid: string, body: unknown): RpcEnvelope {
  return { [RPC_TAG]: 'request', rid, body }
}

export function responseEnvelope (rid: string, outcome: { body: unknown } | { error: string }): RpcEnvelope {
  return { [RPC_TAG]: 'response', rid, ...outcome } as RpcEnvelope
}

/** The envelope carried by a message's data, or undefined for ordinary messages. */
export function readEnvelope (data: unknown): RpcEnvelope | undefined {
  if (typeof data !== 'object' || data === null) return undefined
  const record = data as Record<string, unknown>
  const kind = record[RPC_TAG]
  if ((kind !== 'request' && kind !== 'response') || typeof record.rid !== 'string') return undefined
  return record as RpcEnvelope
}
