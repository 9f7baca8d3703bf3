// addOnlyConnectedContacts (src/dht.ts): a peer that a DHT answer names joins
// the routing table only once a connection to it is open; kad-dht alone would
// dial it to ping it. trustConnectedContacts: a connected peer joins without
// being pinged. A peer already in the table is not offered to it again, and
// passOnNamedPeersOnce keeps a peer named again with the same addresses from
// being merged into the peer store again. Real libp2p nodes in this process,
// on 127.0.0.1.
// First: it loads the polyfill libp2p needs on Node 20.
import { startNode } from './helpers/libp2p-node.js'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import type { PeerInfo } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { raceSignal } from 'race-signal'
// The ping protocol, which kad-dht uses to check a contact before it joins the table.
import { PING_PROTOCOL } from '@libp2p/ping'
import type { Libp2pNode } from '../src/libp2p.js'

/** The parts of kad-dht the test drives: where answers' peers arrive, and the routing table. */
interface KadInternals {
  network: EventTarget
  routingTable: EventTarget & {
    find: (peer: PeerInfo['id']) => Promise<unknown>
    queueRoutingTableUpdate: (peer: PeerInfo['id'], options?: unknown) => void
    remove: (peer: PeerInfo['id']) => Promise<void>
    routingTableUpdateQueue: { onIdle: () => Promise<void> }
  }
}

/** As kad-dht's network does for each peer in a FIND_NODE or GET_PROVIDERS answer. */
function name (node: Libp2pNode, peer: PeerInfo): void {
  (node.services.dht as unknown as KadInternals).network.dispatchEvent(new CustomEvent<PeerInfo>('peer', { detail: peer }))
}

test('a peer named in a DHT answer is not dialled, and joins the routing table once connected', async () => {
  const [a, named] = [await startNode(), await startNode()]
  const kad = a.services.dht as unknown as KadInternals
  const told = async (): Promise<void> => {
    name(a, { id: named.peerId, multiaddrs: named.getMultiaddrs() })
    // Any routing table update it started (kad-dht's own would dial and ping) has ended.
    await kad.routingTable.routingTableUpdateQueue.onIdle()
  }

  await told()
  assert.equal(a.getConnections(named.peerId).length, 0, 'a dialled the peer it was told of')
  assert.equal(await kad.routingTable.find(named.peerId), undefined, 'the peer is in the routing table without a connection')

  // The control: the same answer once a connection is open does add the peer.
  await a.dial(named.getMultiaddrs()[0]!)
  await told()
  assert.notEqual(await kad.routingTable.find(named.peerId), undefined, 'a connected peer named in an answer is not in the routing table')
})

test('a connected peer joins the routing table without being pinged first', async () => {
  const [a, silent] = [await startNode(), await startNode()]
  // A peer that serves no ping: a ping before the table takes it fails.
  await silent.unhandle(PING_PROTOCOL)
  await joinTable(a, silent, 'a connected DHT peer that serves no ping did not join the routing table within 10 s')
})

test('a peer in the routing table is not offered to it again when an answer names it', async () => {
  const [a, named] = [await startNode(), await startNode()]
  const kad = await joinTable(a, named)

  const offered = watchOffers(kad)
  name(a, { id: named.peerId, multiaddrs: named.getMultiaddrs() })
  await kad.routingTable.routingTableUpdateQueue.onIdle()
  assert.deepEqual(offered, [], 'a peer already in the routing table was offered to it again')
  // The control: once out of the table, the connected peer is offered again.
  await kad.routingTable.remove(named.peerId)
  name(a, { id: named.peerId, multiaddrs: named.getMultiaddrs() })
  await kad.routingTable.routingTableUpdateQueue.onIdle()
  assert.deepEqual(offered, [named.peerId.toString()], 'a connected peer no longer in the routing table was not offered to it')
})

test('a peer in the routing table that disconnects is offered to it again once it reconnects', async () => {
  const [a, named] = [await startNode(), await startNode()]
  const kad = await joinTable(a, named)
  await a.hangUp(named.peerId)

  const offered = watchOffers(kad)
  await a.dial(named.getMultiaddrs()[0]!)
  name(a, { id: named.peerId, multiaddrs: named.getMultiaddrs() })
  await kad.routingTable.routingTableUpdateQueue.onIdle()
  assert.ok(offered.includes(named.peerId.toString()), 'a peer that reconnected was not offered to the routing table')
})

test('a peer named again with the same addresses is not merged into the peer store again; new addresses are', async () => {
  const [a, named] = [await startNode(), await startNode()]
  const merges: string[] = []
  const merge = a.peerStore.merge
  a.peerStore.merge = async (peerId, data, options) => {
    if (peerId.equals(named.peerId)) merges.push((data.multiaddrs ?? []).map(String).join(' '))
    return await merge.call(a.peerStore, peerId, data, options)
  }
  const addrs = named.getMultiaddrs()
  name(a, { id: named.peerId, multiaddrs: addrs })
  name(a, { id: named.peerId, multiaddrs: addrs })
  name(a, { id: named.peerId, multiaddrs: [...addrs] })
  assert.equal(merges.length, 1, `the same addresses were merged ${merges.length} times`)
  const moved = multiaddr('/ip4/127.0.0.1/tcp/1')
  name(a, { id: named.peerId, multiaddrs: [moved] })
  assert.deepEqual(merges, [addrs.map(String).join(' '), moved.toString()], 'a peer named with new addresses was not merged')
  assert.ok((await a.peerStore.get(named.peerId)).addresses.some(({ multiaddr }) => multiaddr.equals(moved)), 'the new address is not in the peer store')
})

/** Connects `a` to `peer` and resolves, with a's kad-dht, once `peer` is in a's routing table; fails with `message` after 10 s. */
async function joinTable (a: Libp2pNode, peer: Libp2pNode, message = 'the connected DHT peer did not join the routing table within 10 s'): Promise<KadInternals> {
  const kad = a.services.dht as unknown as KadInternals
  const joined = new Promise<void>((resolve) => {
    kad.routingTable.addEventListener('peer:add', (event) => { if ((event as CustomEvent<PeerInfo['id']>).detail.equals(peer.peerId)) resolve() })
  })
  await a.dial(peer.getMultiaddrs()[0]!)
  await raceSignal(joined, AbortSignal.timeout(10_000), { translateError: () => new Error(message) })
  await kad.routingTable.routingTableUpdateQueue.onIdle()
  return kad
}

/** The peers offered to the routing table from now on (kad-dht queues an update for each). */
function watchOffers (kad: KadInternals): string[] {
  const offered: string[] = []
  const queue = kad.routingTable.queueRoutingTableUpdate
  kad.routingTable.queueRoutingTableUpdate = (peer, options) => {
    offered.push(peer.toString())
    queue.call(kad.routingTable, peer, options)
  }
  return offered
}
