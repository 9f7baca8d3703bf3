import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { bootstrap } from '@libp2p/bootstrap'
import { gossipsub } from '@libp2p/gossipsub'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import type { Libp2p, PeerDiscovery } from '@libp2p/interface'
import type { GossipSub } from '@libp2p/gossipsub'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import type { Identify } from '@libp2p/identify'
import { DHT_PROTOCOL, VERSION } from './constants.js'

export type Services = {
  identify: Identify
  ping: Ping
  pubsub: GossipSub
  dht: KadDHT
}

/** The libp2p node with the services p2p-node uses. */
export type Libp2pNode = Libp2p<Services>

export interface Libp2pNodeInit {
  /** Interface to listen on. */
  host: string
  /** TCP port, 0 for any free port. */
  port: number
  /** Multiaddrs (with /p2p/<peerId>) tagged and redialled by the bootstrap module. */
  bootstrapPeers: string[]
}

/**
 * Builds (does not start) a libp2p node: TCP, Noise, Yamux, identify, ping,
 * gossipsub with signed messages, and a Kademlia DHT under our own protocol
 * prefix in server mode, keeping private and loopback addresses so that nodes on
 * one host or one LAN find each other.
 */
export async function createLibp2pNode (init: Libp2pNodeInit): Promise<Libp2pNode> {
  const peerDiscovery: Array<(components: any) => PeerDiscovery> = []
  const withPeerIds = init.bootstrapPeers.filter((addr) => addr.includes('/p2p/'))
  if (withPeerIds.length > 0) peerDiscovery.push(bootstrap({ list: withPeerIds, timeout: 0 }))

  return await createLibp2p({
    start: false,
    addresses: { listen: [`/ip4/${init.host}/tcp/${init.port}`] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    peerDiscovery,
    nodeInfo: { name: 'p2p-node', version: VERSION, userAgent: `p2p-node/${VERSION}` },
    services: {
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        emitSelf: false,
        allowPublishToZeroTopicPeers: false,
        globalSignaturePolicy: 'StrictSign'
      }),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        clientMode: false,
        peerInfoMapper: passthroughMapper,
        // kad-dht holds every query until its first self-query ends, which on
        // a small network runs to its 5 s timeout: a send to a peer found
        // through the DHT right after start took seconds. Queries go ahead at
        // once instead; TopicAdvertiser waits for a routing-table peer itself.
        allowQueryWithZeroPeers: true
      })
    }
  })
}
