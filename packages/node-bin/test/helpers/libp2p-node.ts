// Real libp2p nodes of p2p-node's stack (createLibp2pNode) in the test's own
// process, on 127.0.0.1, for tests of what src/ adds to libp2p's parts.
import '../../src/polyfill.js'
import { after } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createLibp2pNode } from '../../src/libp2p.js'
import type { Libp2pNode } from '../../src/libp2p.js'

const started: Libp2pNode[] = []
after(async () => { await Promise.all(started.map(async (node) => { await node.stop() })) })

/** A started DHT server node with a new key and no bootstrap peers; stopped after the test file. */
export async function startNode (): Promise<Libp2pNode> {
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
  started.push(node)
  await node.start()
  return node
}
