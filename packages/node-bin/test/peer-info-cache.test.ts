// cachePeerInfo (src/peer-info-cache.ts): peerStore.getInfo answers from
// memory until the peer store changes or forgets the peer, or the entry is
// PEER_INFO_TTL_MS old. A real libp2p node in this process; its peer store
// holds a made-up peer.
// First: it loads the polyfill libp2p needs on Node 20.
import { startNode } from './helpers/libp2p-node.js'
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'
import type { Libp2pNode } from '../src/libp2p.js'

/** A node, a peer its store holds with one address, and a count of the store's reads of that peer. */
async function setUp (): Promise<{ node: Libp2pNode, peer: PeerId, reads: () => number }> {
  const node = await startNode()
  const peer = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
  await node.peerStore.merge(peer, { multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4001')] })
  let count = 0
  const get = node.peerStore.get
  node.peerStore.get = async (peerId, options) => {
    if (peerId.equals(peer)) count++
    return await get.call(node.peerStore, peerId, options)
  }
  return { node, peer, reads: () => count }
}

const addrsOf = async (node: Libp2pNode, peer: PeerId): Promise<string[]> => (await node.peerStore.getInfo(peer)).multiaddrs.map(String)

test('getInfo reads the peer store once for repeated questions, and its answers are copies', async () => {
  const { node, peer, reads } = await setUp()
  const first = await node.peerStore.getInfo(peer)
  first.multiaddrs.length = 0
  assert.deepEqual(await addrsOf(node, peer), ['/ip4/127.0.0.1/tcp/4001'], 'emptying an answer changed the next one')
  assert.deepEqual(await addrsOf(node, peer), ['/ip4/127.0.0.1/tcp/4001'])
  assert.equal(reads(), 1, `three questions read the peer store ${reads()} times`)
})

test('getInfo answers with the peer store\'s new addresses as soon as they change', async () => {
  const { node, peer, reads } = await setUp()
  assert.deepEqual(await addrsOf(node, peer), ['/ip4/127.0.0.1/tcp/4001'])
  await node.peerStore.merge(peer, { multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4002')] })
  assert.deepEqual((await addrsOf(node, peer)).sort(), ['/ip4/127.0.0.1/tcp/4001', '/ip4/127.0.0.1/tcp/4002'], 'a merged address is missing')
  await node.peerStore.patch(peer, { multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4003')] })
  assert.deepEqual(await addrsOf(node, peer), ['/ip4/127.0.0.1/tcp/4003'], 'a replaced address is still answered')
  assert.equal(reads(), 3)
})

test('getInfo reports a peer the peer store forgot as not found', async () => {
  const { node, peer } = await setUp()
  await node.peerStore.getInfo(peer)
  await node.peerStore.delete(peer)
  await assert.rejects(node.peerStore.getInfo(peer), { name: 'NotFoundError' })
})

test('an answer read before a change that lands while getInfo is under way is not kept', async () => {
  const { node, peer } = await setUp()
  // The store's read lock is released once get has loaded the record: the
  // change lands after that and before getInfo has returned the old addresses.
  const get = node.peerStore.get
  node.peerStore.get = async (peerId, options) => {
    const loaded = await get.call(node.peerStore, peerId, options)
    if (peerId.equals(peer)) await node.peerStore.patch(peer, { multiaddrs: [multiaddr('/ip4/127.0.0.1/tcp/4009')] })
    return loaded
  }
  assert.deepEqual(await addrsOf(node, peer), ['/ip4/127.0.0.1/tcp/4001'], 'the read under way did not answer with what it loaded')
  node.peerStore.get = get
  assert.deepEqual(await addrsOf(node, peer), ['/ip4/127.0.0.1/tcp/4009'], 'the answer read before the change was kept')
})
