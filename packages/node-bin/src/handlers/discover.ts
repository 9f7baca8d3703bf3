import type { DiscoverCommand, ResultFields } from '@p2p-node/protocol'
import type { PeerId } from '@libp2p/interface'
import { DISCOVER_TIMEOUT_MS } from '../constants.js'
import { topicKey } from '../topics.js'
import type { NodeContext } from '../context.js'

/** discover asks at most this many of the topic peers it found for theirs. */
const EXCHANGE_PEERS = 16
/** Most peers, learnt from topic peers, that one discover dials. */
const MAX_TOLD_DIALS = 64
/** Most providers a DHT lookup returns (kad-dht's K). */
const PROVIDER_LIMIT = 20

/**
 * Finds peers on a topic (gossipsub's subscribers plus the topic's DHT
 * providers), dials the ones not yet connected, emits peer_discovered once per
 * peer and topic, and returns every peer found that is now connected.
 * timeoutMs bounds the whole command (the DHT lookup gets half of it); a
 * lookup cut short returns what it found.
 */
export async function discover (ctx: NodeContext, cmd: DiscoverCommand): Promise<ResultFields<'discover'>> {
  const { node } = ctx
  const timeoutMs = cmd.timeoutMs ?? DISCOVER_TIMEOUT_MS
  // The whole command ends within timeoutMs; the DHT lookup may take half of it.
  const signal = AbortSignal.timeout(timeoutMs)
  const lookup = AbortSignal.timeout(Math.ceil(timeoutMs / 2))
  const found = new Map<string, PeerId>()
  for (const peerId of node.services.pubsub.getSubscribers(cmd.topic)) found.set(peerId.toString(), peerId)

  // The DHT lists at most PROVIDER_LIMIT providers: a node that already has
  // that many topic peers learns more from them than from the DHT.
  if (found.size < PROVIDER_LIMIT) {
    try {
      for await (const provider of node.contentRouting.findProviders(await topicKey(cmd.topic), { signal: lookup })) {
        if (provider.id.equals(node.peerId)) continue
        if (provider.multiaddrs.length > 0) await node.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs })
        found.set(provider.id.toString(), provider.id)
      }
    } catch (err) {
      // A lookup cut short still returns what it found so far.
      ctx.log.debug('DHT provider lookup ended early', { topic: cmd.topic, reason: (err as Error).message })
    }
  }

  const dialled = async (candidates: Iterable<PeerId>): Promise<PeerId[]> => {
    const outcomes = await Promise.all([...candidates].map(async (peerId) => {
      if (node.getConnections(peerId).length > 0) return peerId
      try {
        await node.dial(peerId, { signal })
        return peerId
      } catch (err) {
        ctx.log.info('found a peer on the topic but could not dial it', { topic: cmd.topic, peerId: peerId.toString(), reason: (err as Error).message })
        return undefined
      }
    }))
    return outcomes.filter((peerId) => peerId !== undefined)
  }
  const reachable = await dialled(found.values())
  // A provider lookup stops at 20 providers: the topic peers found know the others.
  const asked = sample(reachable, EXCHANGE_PEERS)
  const known = new Set(reachable.map(String))
  const told = (await ctx.topicPeers.ask(asked, cmd.topic, signal)).filter((peerId) => !known.has(peerId.toString()))
  reachable.push(...await dialled(told.slice(0, MAX_TOLD_DIALS)))

  const peers: string[] = []
  for (const peerId of reachable) {
    peers.push(peerId.toString())
    if (ctx.topics.markReported(cmd.topic, peerId)) {
      const topics = new Set([cmd.topic, ...ctx.topics.topicsOf(peerId)])
      ctx.events.emit({ type: 'peer_discovered', peerId: peerId.toString(), topics: [...topics].sort() })
    }
  }
  return { topic: cmd.topic, peers }
}

/** Up to `n` of the items, picked at random. */
function sample<T> (items: T[], n: number): T[] {
  const copy = [...items]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j] as T, copy[i] as T]
  }
  return copy.slice(0, n)
}
