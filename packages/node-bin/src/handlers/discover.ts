import type { DiscoverCommand, ResultFields } from '@p2p-node/protocol'
import type { PeerId } from '@libp2p/interface'
import { DISCOVER_TIMEOUT_MS } from '../constants.js'
import { topicKey } from '../topics.js'
import type { NodeContext } from '../context.js'

/**
 * Finds peers on a topic (gossipsub's subscribers plus the topic's DHT
 * providers), dials the ones not yet connected, emits peer_discovered once per
 * peer and topic, and returns every peer found that is now connected.
 * timeoutMs bounds the whole command; a lookup cut short returns what it found.
 */
export async function discover (ctx: NodeContext, cmd: DiscoverCommand): Promise<ResultFields<'discover'>> {
  const { node } = ctx
  const signal = AbortSignal.timeout(cmd.timeoutMs ?? DISCOVER_TIMEOUT_MS)
  const found = new Map<string, PeerId>()
  for (const peerId of node.services.pubsub.getSubscribers(cmd.topic)) found.set(peerId.toString(), peerId)

  try {
    for await (const provider of node.contentRouting.findProviders(await topicKey(cmd.topic), { signal })) {
      if (provider.id.equals(node.peerId)) continue
      if (provider.multiaddrs.length > 0) await node.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs })
      found.set(provider.id.toString(), provider.id)
    }
  } catch (err) {
    // A lookup cut short still returns what it found so far.
    ctx.log.debug('DHT provider lookup ended early', { topic: cmd.topic, reason: (err as Error).message })
  }

  const reachable = await Promise.all([...found.values()].map(async (peerId) => {
    if (node.getConnections(peerId).length > 0) return peerId
    try {
      await node.dial(peerId, { signal })
      return peerId
    } catch (err) {
      ctx.log.info('found a peer on the topic but could not dial it', { topic: cmd.topic, peerId: peerId.toString(), reason: (err as Error).message })
      return undefined
    }
  }))

  const peers: string[] = []
  for (const peerId of reachable) {
    if (peerId === undefined) continue
    peers.push(peerId.toString())
    if (ctx.topics.markReported(cmd.topic, peerId)) {
      const topics = new Set([cmd.topic, ...ctx.topics.topicsOf(peerId)])
      ctx.events.emit({ type: 'peer_discovered', peerId: peerId.toString(), topics: [...topics].sort() })
    }
  }
  return { topic: cmd.topic, peers }
}
