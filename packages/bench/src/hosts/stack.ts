import { generateKeyPair } from '@libp2p/crypto/keys'
import { createLibp2pNode } from '../../../node-bin/src/libp2p.js'
import type { Libp2pNode } from '../../../node-bin/src/libp2p.js'
import { BanList } from '../../../node-bin/src/bans.js'
import { DEFAULT_MAX_CONNECTIONS } from '../../../node-bin/src/constants.js'

/**
 * The libp2p node p2p-node runs with its default flags (DHT server, relay,
 * AutoNAT and DCUtR on, no mDNS), for the hosts that use the stack without
 * the sidecar. Built, not started.
 */
export async function createStack (host: string): Promise<Libp2pNode> {
  return await createLibp2pNode({
    privateKey: await generateKeyPair('Ed25519'),
    listen: [`/ip4/${host}/tcp/0`],
    bootstrapPeers: [],
    dhtMode: 'server',
    relayServer: false,
    relay: true,
    autonat: true,
    dcutr: true,
    mdns: false,
    maxConnections: DEFAULT_MAX_CONNECTIONS,
    connectionGater: new BanList().gater()
  })
}
