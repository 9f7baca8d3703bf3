import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import type { Libp2pNode } from './libp2p.js'

/**
 * The part of kad-dht's routing table we watch. The implementation emits
 * 'peer:add'; the package's public KadDHT type does not declare the table.
 */
export interface ObservableRoutingTable {
  size: number
  addEventListener: (type: 'peer:add', listener: () => void) => void
  removeEventListener: (type: 'peer:add', listener: () => void) => void
}

export function routingTable (node: Libp2pNode): ObservableRoutingTable {
  return (node.services.dht as unknown as { routingTable: ObservableRoutingTable }).routingTable
}

/** Resolves true when the routing table has (or gains) a peer, false after timeoutMs. */
export async function dhtPeerAdded (table: ObservableRoutingTable, timeoutMs: number): Promise<boolean> {
  if (table.size > 0) return true
  return await new Promise((resolve) => {
    const done = (added: boolean): void => {
      clearTimeout(timer)
      table.removeEventListener('peer:add', onAdd)
      resolve(added)
    }
    const onAdd = (): void => { done(true) }
    const timer = setTimeout(() => { done(false) }, timeoutMs)
    table.addEventListener('peer:add', onAdd)
  })
}

/** The CID under which provider records of `prefix + key` live: raw codec, SHA-256 of the UTF-8 bytes. */
export async function providerKey (prefix: string, key: string): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(Buffer.from(prefix + key, 'utf8')))
}
