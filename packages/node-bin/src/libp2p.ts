import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { ping } from '@libp2p/ping'
import { bootstrap } from '@libp2p/bootstrap'
import { gossipsub } from '@libp2p/gossipsub'
import { kadDHT, passthroughMapper } from '@libp2p/kad-dht'
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2'
import { autoNAT } from '@libp2p/autonat'
import { dcutr } from '@libp2p/dcutr'
import { mdns } from '@libp2p/mdns'
import type { ConnectionGater, Libp2p, PeerDiscovery, PrivateKey } from '@libp2p/interface'
import type { GossipSub } from '@libp2p/gossipsub'
import type { KadDHT } from '@libp2p/kad-dht'
import type { Ping } from '@libp2p/ping'
import type { Identify } from '@libp2p/identify'
import type { DhtMode } from './config.js'
import { CONNECTION_PING_INTERVAL_MS, CONNECTION_PING_TIMEOUT_MS, DHT_PROTOCOL, RELAY_DATA_LIMIT_BYTES, RELAY_DURATION_LIMIT_MS, VERSION } from './constants.js'
import { NAME_NAMESPACE, RECORD_NAMESPACE, selector, validator } from './records.js'
import { addOnlyConnectedContacts, passOnNamedPeersOnce, trustConnectedContacts } from './dht.js'
import { onePingPerPeer } from './ping-turns.js'
import { ConnectionPings } from './connection-pings.js'
import { fastMessageId } from './gossip-ids.js'
import { cachePeerInfo } from './peer-info-cache.js'

export type Services = {
  identify: Identify
  ping: Ping
  /** The gossipsub service; its class also has getScore and streamsOutbound, which the exported interface leaves out. */
  pubsub: GossipSub & { getScore: (peerId: string) => number, streamsOutbound: ReadonlyMap<string, unknown> }
  dht: KadDHT
}

/** The libp2p node with the services p2p-node uses. */
export type Libp2pNode = Libp2p<Services>

export interface Libp2pNodeInit {
  privateKey: PrivateKey
  /** Multiaddrs to listen on. */
  listen: string[]
  /** Multiaddrs (with /p2p/<peerId>) tagged and redialled by the bootstrap module. */
  bootstrapPeers: string[]
  dhtMode: DhtMode
  /** Run a circuit relay server (bootstrap nodes). */
  relayServer: boolean
  /** Dial (and, with a /p2p-circuit listen address, listen) through relays. */
  relay: boolean
  autonat: boolean
  dcutr: boolean
  mdns: boolean
  maxConnections: number
  connectionGater: ConnectionGater
}

/**
 * Builds (does not start) a libp2p node: TCP, Noise, Yamux, identify, ping,
 * gossipsub with signed messages, and a Kademlia DHT under our own protocol
 * prefix that keeps private and loopback addresses, so that nodes on one host
 * or one LAN find each other; optionally circuit relay, AutoNAT, DCUtR, mDNS.
 */
export async function createLibp2pNode (init: Libp2pNodeInit): Promise<Libp2pNode> {
  const peerDiscovery: Array<(components: any) => PeerDiscovery> = []
  const withPeerIds = init.bootstrapPeers.filter((addr) => addr.includes('/p2p/'))
  if (withPeerIds.length > 0) peerDiscovery.push(bootstrap({ list: withPeerIds, timeout: 0, tagTTL: Infinity }))
  if (init.mdns) peerDiscovery.push(mdns())

  const optional: Record<string, (components: any) => unknown> = {}
  if (init.relayServer) {
    optional.relay = circuitRelayServer({
      reservations: {
        maxReservations: 1_000,
        // circuit relay v2 defaults (2 min, 128 KiB per relayed connection) cut off
        // ordinary messaging; DCUtR still upgrades to direct connections where it can.
        defaultDurationLimit: RELAY_DURATION_LIMIT_MS,
        defaultDataLimit: RELAY_DATA_LIMIT_BYTES
      }
    })
  }
  if (init.autonat) optional.autonat = autoNAT()
  if (init.dcutr && init.relay) optional.dcutr = dcutr()

  const node = await createLibp2p({
    start: false,
    privateKey: init.privateKey,
    addresses: { listen: init.listen },
    transports: init.relay ? [tcp(), circuitRelayTransport()] : [tcp()],
    connectionEncrypters: [noise()],
    // Keep-alive off: ConnectionPings sends the same yamux ping frames, once a minute per connection on a schedule of its own.
    streamMuxers: [yamux({ enableKeepAlive: false })],
    connectionManager: {
      maxConnections: init.maxConnections,
      // libp2p's defaults (5 inbound connections per second per host, 10
      // pending) refuse nodes that join together from one host or one NAT.
      inboundConnectionThreshold: init.maxConnections,
      maxIncomingPendingConnections: Math.max(10, Math.ceil(init.maxConnections / 10))
    },
    // Replaced by ConnectionPings (connection-pings.ts), which spreads the pings out.
    connectionMonitor: { enabled: false },
    peerDiscovery,
    connectionGater: init.connectionGater,
    nodeInfo: { name: 'p2p-node', version: VERSION, userAgent: `p2p-node/${VERSION}` },
    services: {
      ...optional,
      identify: identify(),
      ping: ping(),
      pubsub: gossipsub({
        // The node's own messages are delivered to it too, only to keep them in its history.
        emitSelf: true,
        allowPublishToZeroTopicPeers: false,
        globalSignaturePolicy: 'StrictSign',
        // Duplicates are recognised before their signature is checked again (see gossip-ids.ts).
        fastMsgIdFn: fastMessageId,
        // Peer scoring with gossipsub's default parameters (see docs/protocol.md),
        // except that many peers on one loopback address are not suspicious.
        scoreParams: { IPColocationFactorWhitelist: new Set(['127.0.0.1']) }
      }),
      dht: kadDHT({
        protocol: DHT_PROTOCOL,
        // auto: kad-dht starts as a client and turns server once an address is confirmed dialable.
        ...(init.dhtMode === 'auto' ? {} : { clientMode: init.dhtMode === 'client' }),
        peerInfoMapper: passthroughMapper,
        validators: { [NAME_NAMESPACE]: validator(NAME_NAMESPACE), [RECORD_NAMESPACE]: validator(RECORD_NAMESPACE) },
        selectors: { [NAME_NAMESPACE]: selector(NAME_NAMESPACE), [RECORD_NAMESPACE]: selector(RECORD_NAMESPACE) },
        // kad-dht holds every query until its first self-query has run; start
        // that one at once rather than after the default 1 s.
        initialQuerySelfInterval: 0
      })
    }
  }) as unknown as Libp2pNode
  addOnlyConnectedContacts(node)
  passOnNamedPeersOnce(node)
  trustConnectedContacts(node)
  cachePeerInfo(node)
  onePingPerPeer(node.services.ping)
  const pings = new ConnectionPings(node, { intervalMs: CONNECTION_PING_INTERVAL_MS, timeoutMs: CONNECTION_PING_TIMEOUT_MS })
  node.addEventListener('start', () => { pings.start() })
  node.addEventListener('stop', () => { pings.stop() })
  return node
}
