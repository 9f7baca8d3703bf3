import type { PeerId, PeerInfo } from '@libp2p/interface'
import type { Libp2pNode } from './libp2p.js'

/** How long a peer's id and addresses are answered from memory, ms, unless the peer store changes them first. */
const PEER_INFO_TTL_MS = 10_000
/** Most peers kept; the cache starts over when full. */
const MAX_PEERS = 4_096

/**
 * Speed: keeps what `peerStore.getInfo` returns (a peer's id and addresses)
 * in memory. kad-dht calls it for each of the 20 peers of every DHT answer it
 * gives, and each call takes a read lock, decodes the peer's record and
 * parses its addresses again: in a network of a few dozen nodes, where every
 * lookup asks nearly every node, that was an eighth of the CPU of a node
 * answering lookups (cpuprofile). An entry is dropped as soon as the peer
 * store says the peer changed ('peer:update') or forgets it (delete), and
 * after PEER_INFO_TTL_MS in any case, so that an address that expires in the
 * peer store (an hour after it was first seen) does not live on here.
 */
export function cachePeerInfo (node: Libp2pNode): void {
  const store = node.peerStore
  const { getInfo, delete: remove } = store
  const cache = new Map<string, { info: PeerInfo, at: number }>()
  // The reads under way, by peer: one that a change overtakes is not kept.
  const reading = new Map<string, Set<{ overtaken: boolean }>>()
  const changed = (peerId: PeerId): void => {
    const key = peerId.toString()
    cache.delete(key)
    for (const read of reading.get(key) ?? []) read.overtaken = true
  }
  node.addEventListener('peer:update', ({ detail }) => { changed(detail.peer.id) })
  store.delete = async (peerId, options) => {
    try {
      await remove.call(store, peerId, options)
    } finally {
      // Afterwards: a read that ran alongside the delete may have seen the peer.
      changed(peerId)
    }
  }
  store.getInfo = async (peerId, options) => {
    const key = peerId.toString()
    const now = performance.now()
    const hit = cache.get(key)
    if (hit !== undefined && now - hit.at < PEER_INFO_TTL_MS) return { id: hit.info.id, multiaddrs: [...hit.info.multiaddrs] }
    const read = { overtaken: false }
    let reads = reading.get(key)
    if (reads === undefined) reading.set(key, reads = new Set())
    reads.add(read)
    try {
      const info = await getInfo.call(store, peerId, options)
      if (!read.overtaken) {
        if (cache.size >= MAX_PEERS) cache.clear()
        cache.set(key, { info, at: now })
      }
      return { id: info.id, multiaddrs: [...info.multiaddrs] }
    } finally {
      reads.delete(read)
      if (reads.size === 0) reading.delete(key)
    }
  }
}
