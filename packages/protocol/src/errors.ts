import * as z from 'zod/mini'

/**
 * Every error code the node can put on the wire. The list is closed: a client
 * may switch on it exhaustively. docs/protocol.md says what each one means and
 * what to do about it.
 */
export const ErrorCodeSchema = z.enum([
  /** The line is not JSON (or not UTF-8). */
  'INVALID_JSON',
  /** The line is JSON but not a valid command; the message names the field. */
  'INVALID_COMMAND',
  /** `type` names no command this node knows. */
  'UNKNOWN_COMMAND',
  /** The line is longer than --max-line-bytes; it was discarded unread. */
  'LINE_TOO_LONG',
  /** A peer id field does not parse as a libp2p peer id. */
  'INVALID_PEER_ID',
  /** A multiaddr field does not parse, or lacks what the command needs. */
  'INVALID_MULTIADDR',
  /** The peer was found but could not be dialled. */
  'DIAL_FAILED',
  /** No address is known for the peer, locally or in the DHT. */
  'PEER_NOT_FOUND',
  /** lookup or dht_get found no (unexpired, valid) record. */
  'NOT_FOUND',
  /** publish found no connected peer subscribed to the topic. */
  'NO_PEERS_SUBSCRIBED',
  /** The command did not finish within its time limit. */
  'TIMEOUT',
  /** The listen port is taken by another process. */
  'PORT_IN_USE',
  /** The parent did not read stdout fast enough: `dropped` gossipsub messages were discarded. */
  'BACKPRESSURE',
  /** The node is shutting down and takes no new commands. */
  'SHUTTING_DOWN',
  /** A bug: the node hit something it did not expect. The stack is on stderr. */
  'INTERNAL'
])
export type ErrorCode = z.infer<typeof ErrorCodeSchema>

/** Thrown by handlers; the stdio loop turns it into an `error` event. */
export class ProtocolError extends Error {
  static override name = 'ProtocolError'
  override name = 'ProtocolError'
  readonly code: ErrorCode

  constructor (code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
  }
}
