import { RPC } from '@libp2p/gossipsub/message'
import { publicKeyFromProtobuf, publicKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromString } from '@libp2p/peer-id'
import type { SignedMessage } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'

/**
 * A gossipsub message as its origin signed it, plus when this node received
 * it. Everything needed to check the origin's signature travels with it, so a
 * peer that relays it cannot alter it unnoticed.
 */
export interface HistoryMessage {
  /** Peer id of the origin (the publisher). */
  from: string
  /** The origin's sequence number: increases with each message it publishes. */
  seqno: bigint
  topic: string
  data: Uint8Array
  signature: Uint8Array
  /** The origin's public key (protobuf), only when its peer id does not embed it. */
  key?: Uint8Array
  /** When this node received (or published) it, ms since the epoch. */
  receivedAt: number
}

/** How a HistoryMessage travels on the history protocol and is kept in --data-dir files. */
export interface HistoryMessageJson {
  from: string
  /** seqno, hexadecimal. */
  seqno: string
  data: string
  signature: string
  key?: string
  receivedAt: number
}

/** The bytes gossipsub signs are this prefix and the protobuf message without signature and key. */
const SIGN_PREFIX = new TextEncoder().encode('libp2p-pubsub:')
const SEQNO_HEX = /^[0-9a-f]{1,16}$/
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** Identifies a message the way gossipsub's StrictSign ids do: origin and sequence number. */
export function messageId (from: string, seqno: bigint): string {
  return `${from}/${seqno.toString(16)}`
}

/** Peer id strings by multihash (hex), at most PEER_ID_STRINGS of them. */
const peerIdStrings = new Map<string, string>()
const PEER_ID_STRINGS = 4_096

/**
 * The string form of a message's origin. Gossipsub makes a new PeerId for
 * every message it receives, so PeerId's own cache never hits, and base58
 * encoding it was 3 % of a subscriber's CPU under a burst of messages.
 */
export function peerIdString (peerId: PeerId): string {
  const bytes = peerId.toMultihash().bytes
  const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')
  let text = peerIdStrings.get(key)
  if (text === undefined) {
    if (peerIdStrings.size >= PEER_ID_STRINGS) peerIdStrings.clear()
    text = peerId.toString()
    peerIdStrings.set(key, text)
  }
  return text
}

export function fromGossipsub (message: SignedMessage, receivedAt: number): HistoryMessage {
  const from = peerIdString(message.from)
  const entry: HistoryMessage = { from, seqno: message.sequenceNumber, topic: message.topic, data: message.data, signature: message.signature, receivedAt }
  if (message.from.publicKey === undefined) entry.key = publicKeyToProtobuf(message.key)
  return entry
}

export function toJson (message: HistoryMessage): HistoryMessageJson {
  const json: HistoryMessageJson = {
    from: message.from,
    seqno: message.seqno.toString(16),
    data: Buffer.from(message.data).toString('base64'),
    signature: Buffer.from(message.signature).toString('base64'),
    receivedAt: message.receivedAt
  }
  if (message.key !== undefined) json.key = Buffer.from(message.key).toString('base64')
  return json
}

/** Reads a message of `topic` from its JSON form; undefined when the shape is wrong. Does not check the signature. */
export function fromJson (topic: string, value: unknown): HistoryMessage | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const json = value as Partial<Record<keyof HistoryMessageJson, unknown>>
  if (typeof json.from !== 'string' || json.from.length > 128) return undefined
  // One origin, one spelling: a CID form of the same peer id would make the same message look new.
  try {
    if (peerIdFromString(json.from).toString() !== json.from) return undefined
  } catch {
    return undefined
  }
  if (typeof json.seqno !== 'string' || !SEQNO_HEX.test(json.seqno)) return undefined
  if (typeof json.data !== 'string' || !BASE64.test(json.data)) return undefined
  if (typeof json.signature !== 'string' || !BASE64.test(json.signature)) return undefined
  if (json.key !== undefined && (typeof json.key !== 'string' || !BASE64.test(json.key))) return undefined
  if (typeof json.receivedAt !== 'number' || !Number.isSafeInteger(json.receivedAt)) return undefined
  const message: HistoryMessage = {
    from: json.from,
    seqno: BigInt(`0x${json.seqno}`),
    topic,
    data: Buffer.from(json.data, 'base64'),
    signature: Buffer.from(json.signature, 'base64'),
    receivedAt: json.receivedAt
  }
  if (json.key !== undefined) message.key = Buffer.from(json.key, 'base64')
  return message
}

/**
 * Checks the origin's signature over the message, as gossipsub's StrictSign
 * does: the key must belong to the `from` peer id, and the signature must
 * cover this exact topic, data and sequence number.
 */
export async function verifySignature (message: HistoryMessage): Promise<boolean> {
  try {
    const origin = peerIdFromString(message.from)
    const publicKey = message.key === undefined ? origin.publicKey : publicKeyFromProtobuf(message.key)
    if (publicKey === undefined || !origin.equals(publicKey.toMultihash().bytes)) return false
    const seqno = new Uint8Array(8)
    new DataView(seqno.buffer).setBigUint64(0, message.seqno, false)
    const unsigned = RPC.Message.encode({ from: origin.toMultihash().bytes, data: message.data, seqno, topic: message.topic })
    const signed = new Uint8Array(SIGN_PREFIX.byteLength + unsigned.byteLength)
    signed.set(SIGN_PREFIX)
    signed.set(unsigned, SIGN_PREFIX.byteLength)
    return await publicKey.verify(signed, message.signature)
  } catch {
    // A malformed peer id, key or signature.
    return false
  }
}
