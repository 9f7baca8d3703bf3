import { multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Libp2pNode } from './libp2p.js'

/** Protocol a circuit relay v2 server speaks. */
export const RELAY_HOP_PROTOCOL = '/libp2p/circuit/relay/0.2.0/hop'

/**
 * Adds to the peer store, for a peer no lookup found, a circuit address
 * through every connected relay server: a node that cannot be dialled directly
 * keeps a reservation on a relay (usually a bootstrap node) and is reachable
 * as <relay>/p2p-circuit/p2p/<peer>. Resolves with the addresses added, to
 * be taken back with removeRelayRoutes if they lead nowhere.
 */
export async function addRelayRoutes (node: Libp2pNode, target: PeerId): Promise<Multiaddr[]> {
  const routes = []
  for (const connection of node.getConnections()) {
    if (connection.limits !== undefined) continue
    const relay = connection.remotePeer
    let protocols: string[] = []
    try {
      protocols = (await node.peerStore.get(relay)).protocols
    } catch {}
    if (!protocols.includes(RELAY_HOP_PROTOCOL)) continue
    const base = connection.remoteAddr.getComponents().some((c) => c.name === 'p2p') ? connection.remoteAddr : connection.remoteAddr.encapsulate(`/p2p/${relay.toString()}`)
    routes.push(base.encapsulate(multiaddr(`/p2p-circuit/p2p/${target.toString()}`)))
  }
  if (routes.length > 0) await node.peerStore.merge(target, { multiaddrs: routes })
  return routes
}

/** Takes back addresses added by addRelayRoutes (the peer holds no reservation there). */
export async function removeRelayRoutes (node: Libp2pNode, target: PeerId, routes: Multiaddr[]): Promise<void> {
  const dead = new Set(routes.map(String))
  try {
    const peer = await node.peerStore.get(target)
    await node.peerStore.patch(target, { multiaddrs: peer.addresses.map((a) => a.multiaddr).filter((ma) => !dead.has(ma.toString())) })
  } catch {}
}
