import { peerIdFromString } from '@libp2p/peer-id'
import { ProtocolError } from '@p2p-node/protocol'
import type { PrivateKey } from '@libp2p/interface'
import type { SelectFn, ValidateFn } from '@libp2p/kad-dht'

/**
 * Signed DHT records. Two namespaces share one format:
 *
 *   /p2p-node-name/<name>     value {peerId}: the node that registered the name (-n)
 *   /p2p-node-record/<key>    value: any JSON, written with dht_put
 *
 * The stored bytes are the UTF-8 JSON of a SignedRecord. The signature covers
 * every other field, made with the publisher's libp2p key; its peer id embeds
 * the public key (Ed25519, secp256k1), so anyone can verify it. Validators
 * reject a record that is malformed, stored under another key, not signed by
 * its publisher, or expired; selectors keep the newest (highest seq).
 */
export const NAME_NAMESPACE = 'p2p-node-name'
export const RECORD_NAMESPACE = 'p2p-node-record'
export type RecordNamespace = typeof NAME_NAMESPACE | typeof RECORD_NAMESPACE

export interface SignedRecord {
  /** The key after the namespace: the name, or the dht_put key. */
  key: string
  value: unknown
  /** Peer id of the signer. */
  publisher: string
  /** Publication time, ms since the epoch; the newest record wins. */
  seq: number
  /** After this time (ms since the epoch) the record is invalid. */
  expiresAt: number
  /** base64 signature over signedBytes(namespace, record). */
  signature: string
}

const utf8 = new TextEncoder()
const fromUtf8 = new TextDecoder('utf-8', { fatal: true })

export function dhtKey (namespace: RecordNamespace, key: string): Uint8Array {
  return utf8.encode(`/${namespace}/${key}`)
}

function signedBytes (namespace: RecordNamespace, record: Omit<SignedRecord, 'signature'>): Uint8Array {
  return utf8.encode(JSON.stringify([namespace, record.key, record.value, record.publisher, record.seq, record.expiresAt]))
}

/** Builds and signs a record as `privateKey`'s peer: its bytes for the DHT, and when it expires. */
export async function signRecord (namespace: RecordNamespace, privateKey: PrivateKey, publisher: string, key: string, value: unknown, ttlMs: number): Promise<{ bytes: Uint8Array, expiresAt: number }> {
  const seq = Date.now()
  const unsigned = { key, value, publisher, seq, expiresAt: seq + ttlMs }
  const signature = await privateKey.sign(signedBytes(namespace, unsigned))
  const record: SignedRecord = { ...unsigned, signature: Buffer.from(signature).toString('base64') }
  return { bytes: utf8.encode(JSON.stringify(record)), expiresAt: record.expiresAt }
}

/** Parses and checks a record read under `namespace`/`key`; throws saying why it is invalid. */
export async function verifyRecord (namespace: RecordNamespace, dhtKeyBytes: Uint8Array, bytes: Uint8Array, now = Date.now()): Promise<SignedRecord> {
  const record = JSON.parse(fromUtf8.decode(bytes)) as SignedRecord
  if (typeof record !== 'object' || record === null || typeof record.key !== 'string' || typeof record.publisher !== 'string' ||
    typeof record.seq !== 'number' || typeof record.expiresAt !== 'number' || typeof record.signature !== 'string' || !('value' in record)) {
    throw new Error('malformed record')
  }
  if (fromUtf8.decode(dhtKeyBytes) !== `/${namespace}/${record.key}`) throw new Error('record stored under another key')
  if (record.expiresAt <= now) throw new Error('record expired')
  if (namespace === NAME_NAMESPACE && (record.value as { peerId?: unknown })?.peerId !== record.publisher) {
    throw new Error('a name record must name its own publisher')
  }
  const publicKey = peerIdFromString(record.publisher).publicKey
  if (publicKey === undefined) throw new Error('publisher peer id does not embed its public key')
  const valid = await publicKey.verify(signedBytes(namespace, record), Buffer.from(record.signature, 'base64'))
  if (!valid) throw new Error('bad signature')
  return record
}

/** verifyRecord for a record a command read: an invalid or just-expired one is NOT_FOUND. */
export async function readRecord (namespace: RecordNamespace, dhtKeyBytes: Uint8Array, bytes: Uint8Array): Promise<SignedRecord> {
  try {
    return await verifyRecord(namespace, dhtKeyBytes, bytes)
  } catch (err) {
    throw new ProtocolError('NOT_FOUND', `no valid record under ${fromUtf8.decode(dhtKeyBytes)}: ${(err as Error).message}`, { cause: err })
  }
}

export function validator (namespace: RecordNamespace): ValidateFn {
  return async (key, value) => { await verifyRecord(namespace, key, value) }
}

/** Index of the newest record; ties go to the publisher whose peer id sorts first. */
export function selector (namespace: RecordNamespace): SelectFn {
  return (key, values) => {
    let best = 0
    let bestRecord: SignedRecord | undefined
    values.forEach((bytes, i) => {
      let record: SignedRecord
      try {
        record = JSON.parse(fromUtf8.decode(bytes)) as SignedRecord
      } catch {
        return
      }
      if (bestRecord === undefined || record.seq > bestRecord.seq || (record.seq === bestRecord.seq && record.publisher < bestRecord.publisher)) {
        best = i
        bestRecord = record
      }
    })
    return best
  }
}
