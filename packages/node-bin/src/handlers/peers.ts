import type { PeerInfo, PeersCommand, ResultFields } from '@p2p-node/protocol'
import type { NodeContext } from '../context.js'

/** Every connected peer with its connection addresses, announced topics, last measured round trip and gossipsub score. */
export async function peers (ctx: NodeContext, _cmd: PeersCommand): Promise<ResultFields<'peers'>> {
  const byPeer = new Map<string, PeerInfo>()
  for (const connection of ctx.node.getConnections()) {
    const peerId = connection.remotePeer.toString()
    let info = byPeer.get(peerId)
    if (info === undefined) {
      info = { peerId, addrs: [], topics: ctx.topics.topicsOf(peerId), score: ctx.node.services.pubsub.getScore(peerId) }
      byPeer.set(peerId, info)
    }
    const addr = connection.remoteAddr.toString()
    if (!info.addrs.includes(addr)) info.addrs.push(addr)
    if (connection.rtt !== undefined && (info.latencyMs === undefined || connection.rtt < info.latencyMs)) info.latencyMs = connection.rtt
  }
  return { peers: [...byPeer.values()] }
}
