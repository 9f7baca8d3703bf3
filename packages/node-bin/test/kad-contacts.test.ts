// addOnlyConnectedContacts (src/dht.ts): a peer that a DHT answer names joins
// the routing table only once a connection to it is open; kad-dht alone would
// dial it to ping it. trustConnectedContacts: a connected peer joins without
// being pinged. Real libp2p nodes in this process, on 127.0.0.1.
import '../src/polyfill.js'
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { PeerInfo } from '@libp2p/interface'
import { createLibp2pNode } from '../src/libp2p.js'
import { PING_PROTOCOL } from '../src/connection-pings.js'
import type { Libp2pNode } from '../src/libp2p.js'

/** The parts of kad-dht the test drives: where answers' peers arrive, and the routing table. */
interface KadInternals {
  network: EventTarget
  routingTable: EventTarget & {
    find: (peer: PeerInfo['id']) => Promise<unknown>
    routingTableUpdateQueue: { onIdle: () => Promise<void> }
  }
}

const nodes: Libp2pNode[] = []
after(async () => { await Promise.all(nodes.map(async (node) => { await node.stop() })) })

async function startNode (): Promise<Libp2pNode> {
  const node = await createLibp2pNode({
    privateKey: await generateKeyPair('Ed25519'),
    listen: ['/ip4/127.0.0.1/tcp/0'],
    bootstrapPeers: [],
    dhtMode: 'server',
    relayServer: false,
    relay: false,
    autonat: false,
    dcutr: false,
    mdns: false,
    maxConnections: 50,
    connectionGater: {}
  })
  nodes.push(node)
  await node.start()
  return node
}

test('a peer named in a DHT answer is not dialled, and joins the routing table once connected', async () => {
  const [a, named] = [await startNode(), await startNode()]
  const kad = a.services.dht as unknown as KadInternals
  const told = async (): Promise<void> => {
    // As kad-dht's network does for each peer in a FIND_NODE or GET_PROVIDERS answer.
    kad.network.dispatchEvent(new CustomEvent<PeerInfo>('peer', { detail: { id: named.peerId, multiaddrs: named.getMultiaddrs() } }))
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
  const kad = a.services.dht as unknown as KadInternals
  const added = new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => { resolve(false) }, 10_000)
    kad.routingTable.addEventListener('peer:add', (event) => {
      if ((event as CustomEvent<PeerInfo['id']>).detail.equals(silent.peerId)) {
        clearTimeout(timer)
        resolve(true)
      }
    })
  })
  await a.dial(silent.getMultiaddrs()[0]!)
  assert.ok(await added, 'a connected DHT peer that serves no ping did not join the routing table within 10 s')
})
