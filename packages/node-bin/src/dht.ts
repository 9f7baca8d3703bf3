import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { raceSignal } from 'race-signal'
import type { PeerId, PeerInfo } from '@libp2p/interface'
import { DHT_TIMEOUT_MS } from './constants.js'
import type { Libp2pNode } from './libp2p.js'

/**
 * The part of kad-dht's routing table we watch. The implementation emits
 * 'peer:add' and 'peer:remove'; the package's public KadDHT type does not
 * declare the table.
 */
export interface ObservableRoutingTable {
  size: number
  addEventListener: (type: 'peer:add' | 'peer:remove', listener: (event: CustomEvent<PeerId>) => void) => void
  removeEventListener: (type: 'peer:add' | 'peer:remove', listener: (event: CustomEvent<PeerId>) => void) => void
}

export function routingTable (node: Libp2pNode): ObservableRoutingTable {
  return (node.services.dht as unknown as { routingTable: ObservableRoutingTable }).routingTable
}

/**
 * Keeps kad-dht from connecting to every peer a DHT answer names. kad-dht
 * offers each of them to its routing table, which accepts a new peer only
 * after pinging it, and a ping needs a connection. With kad-dht's K of 20, in
 * a network of a few dozen nodes every lookup names nearly every node, so each
 * node soon dials all the others: with 20 nodes on one host, 19 connections
 * each and about 1 s of CPU per node before any topic is joined. Here the
 * routing table is offered a named peer only when a connection to it is open
 * already (as go-libp2p-kad-dht's table, too, takes peers it has talked to).
 * The others still serve the lookup that learnt of them (a lookup dials the
 * peers it queries, and those join the table once connected) and their
 * addresses still go to the peer store, for later dials.
 */
export function addOnlyConnectedContacts (node: Libp2pNode): void {
  const dht = node.services.dht as unknown as { onPeerConnect?: (peer: PeerInfo) => Promise<void> }
  const offer = dht.onPeerConnect
  // kad-dht calls this.onPeerConnect both for peers that answers name and for peers that connect.
  if (typeof offer !== 'function') throw new Error('@libp2p/kad-dht no longer has onPeerConnect: update addOnlyConnectedContacts in src/dht.ts')
  // Speed: a peer already in the table is not offered again. kad-dht would
  // queue a job, hash the peer id and find it there; in a small network every
  // answer names nearly every node, so that was about 20 jobs per answer.
  const inTable = new Set<string>()
  const table = routingTable(node)
  table.addEventListener('peer:add', ({ detail }) => { inTable.add(detail.toString()) })
  table.addEventListener('peer:remove', ({ detail }) => { inTable.delete(detail.toString()) })
  // kad-dht takes a peer out of its bucket before 'peer:remove', which a failed
  // peer store write can skip: a peer that reconnects is offered again.
  node.addEventListener('peer:disconnect', ({ detail }) => { inTable.delete(detail.toString()) })
  dht.onPeerConnect = async (peer) => {
    if (!inTable.has(peer.id.toString()) && node.getConnections(peer.id).length > 0) await offer.call(dht, peer)
  }
}

/** How long a peer that DHT answers name is not passed on again with the same addresses, ms. */
const NAMED_PEER_QUIET_MS = 60_000
/** Most named peers remembered; the memory starts over when full. */
const NAMED_PEERS_MAX = 4_096

/**
 * Speed: kad-dht passes each peer a DHT answer names to libp2p as a
 * discovered peer, and libp2p merges its addresses into the peer store: a
 * write lock, a decode and an encode of the peer's record, a new copy of its
 * addresses, even when nothing changes. In a network of a few dozen nodes
 * every answer names nearly every node, about 20 merges per answer and 400
 * per lookup. A peer named again with the same addresses within
 * NAMED_PEER_QUIET_MS is not passed on: they were stored then, and merging
 * them again would not even make them last longer (the peer store keeps the
 * time an address was first seen).
 */
export function passOnNamedPeersOnce (node: Libp2pNode): void {
  const dht = node.services.dht as unknown as { dispatchEvent?: (event: Event) => boolean }
  const dispatch = dht.dispatchEvent
  if (typeof dispatch !== 'function') throw new Error('@libp2p/kad-dht no longer has dispatchEvent: update passOnNamedPeersOnce in src/dht.ts')
  const passed = new Map<string, { addrs: string, at: number }>()
  dht.dispatchEvent = (event) => {
    if (event.type === 'peer') {
      const { id, multiaddrs } = (event as CustomEvent<PeerInfo>).detail
      const key = id.toString()
      const addrs = multiaddrs.map(String).join(' ')
      const now = performance.now()
      const last = passed.get(key)
      if (last !== undefined && last.addrs === addrs && now - last.at < NAMED_PEER_QUIET_MS) return true
      if (passed.size >= NAMED_PEERS_MAX) passed.clear()
      passed.set(key, { addrs, at: now })
    }
    return dispatch.call(dht, event)
  }
}

/**
 * Keeps kad-dht from pinging a peer it is connected to before taking it into
 * the routing table. kad-dht pings every new contact first, and since only
 * connected peers are offered (addOnlyConnectedContacts), every such ping
 * went over a connection whose handshake and identify had just shown the
 * peer alive and speaking the DHT protocol: two ping streams per connection
 * between DHT servers, one from each end, and a peer that does not serve
 * ping never joined the table at all. go-libp2p-kad-dht takes connected
 * peers without a ping too. A peer reached only over a limited (relayed)
 * connection, which the DHT does not use, is still pinged, and so are old
 * contacts when a full bucket is offered a new one.
 */
export function trustConnectedContacts (node: Libp2pNode): void {
  const table = (node.services.dht as unknown as { routingTable?: { kb?: { verify?: ContactCheck } } }).routingTable
  const kb = table?.kb
  const verify = kb?.verify
  if (kb === undefined || typeof verify !== 'function') throw new Error('@libp2p/kad-dht no longer has routingTable.kb.verify: update trustConnectedContacts in src/dht.ts')
  kb.verify = async (contact, options) => {
    return hasDirectConnection(node, contact.peerId) || await verify(contact, options)
  }
}

/** How kad-dht's k-bucket checks a new contact (true: take it). */
type ContactCheck = (contact: { peerId: PeerId }, options?: { signal?: AbortSignal }) => Promise<boolean>

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

/** True if this node is connected to the peer or holds an address for it. */
export async function hasRoute (node: Libp2pNode, peerId: PeerId): Promise<boolean> {
  if (node.getConnections(peerId).length > 0) return true
  const held = await node.peerStore.get(peerId).catch(() => undefined)
  return (held?.addresses.length ?? 0) > 0
}

/** True if this node has a connection to the peer that is not limited (relayed). */
export function hasDirectConnection (node: Libp2pNode, peerId: PeerId): boolean {
  return node.getConnections(peerId).some((connection) => connection.limits === undefined)
}

/** The address lookups each node has running, by peer. */
const lookups = new WeakMap<Libp2pNode, Map<string, Promise<boolean>>>()

/**
 * Asks the DHT where the peer is now, ignoring what this node holds, and puts
 * the addresses it did not hold in the peer store in place of the old ones.
 * Every answer of the lookup counts: one from a peer that knew only an old
 * address does not hide a newer one that others give. True if any address was
 * new; false if the DHT knew none, or only those held already, by the time
 * `signal` aborted.
 * Callers that ask about the same peer while a lookup runs share it: when a
 * peer dies, each of the sends queued for it asks, and thousands of lookups at
 * once kept them all waiting more than twice their time limit.
 */
export async function refreshPeerAddresses (node: Libp2pNode, peerId: PeerId, signal: AbortSignal): Promise<boolean> {
  const key = peerId.toString()
  let running = lookups.get(node)
  if (running === undefined) lookups.set(node, running = new Map())
  let lookup = running.get(key)
  if (lookup === undefined) {
    const ours = lookUpAddresses(node, peerId, AbortSignal.timeout(DHT_TIMEOUT_MS)).finally(() => { if (running.get(key) === ours) running.delete(key) })
    running.set(key, ours)
    lookup = ours
  }
  return await raceSignal(lookup, signal).catch(() => false)
}

async function lookUpAddresses (node: Libp2pNode, peerId: PeerId, signal: AbortSignal): Promise<boolean> {
  const held = new Set((await node.peerStore.get(peerId).catch(() => undefined))?.addresses.map(({ multiaddr }) => multiaddr.toString()))
  const fresh = new Map<string, PeerInfo['multiaddrs'][number]>()
  try {
    for await (const event of node.services.dht.findPeer(peerId, { signal, useCache: false })) {
      if (event.name !== 'FINAL_PEER') continue
      for (const addr of event.peer.multiaddrs) if (!held.has(addr.toString())) fresh.set(addr.toString(), addr)
    }
  } catch {
    // Not found, or out of time: what the answers gave so far still counts.
  }
  if (fresh.size === 0) return false
  await node.peerStore.patch(peerId, { multiaddrs: [...fresh.values()] })
  return true
}
