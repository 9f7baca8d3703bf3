import type { CID } from 'multiformats/cid'
import type { PeerId } from '@libp2p/interface'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Libp2pNode } from './libp2p.js'
import type { Logger } from './output.js'
import { ADVERTISE_RETRY_MS, TOPIC_KEY_PREFIX } from './constants.js'
import { dhtPeerAdded, providerKey, routingTable } from './dht.js'
import type { ObservableRoutingTable } from './dht.js'

/** The DHT key under which subscribers of a topic advertise themselves (provider records). */
export async function topicKey (topic: string): Promise<CID> {
  return await providerKey(TOPIC_KEY_PREFIX, topic)
}

/**
 * What this node knows of other peers' topics: kept from gossipsub's
 * subscription announcements, forgotten when the peer disconnects. Also
 * remembers which peers `discover` has already reported for each topic.
 */
export class TopicDirectory {
  private readonly byPeer = new Map<string, Set<string>>()
  private readonly reported = new Map<string, Set<string>>()

  constructor (node: Libp2pNode, pubsub: GossipSub) {
    pubsub.addEventListener('subscription-change', (event) => {
      const key = event.detail.peerId.toString()
      const topics = this.byPeer.get(key) ?? new Set<string>()
      for (const { topic, subscribe } of event.detail.subscriptions) {
        if (subscribe) topics.add(topic)
        else topics.delete(topic)
      }
      this.byPeer.set(key, topics)
    })
    node.addEventListener('peer:disconnect', (event) => { this.byPeer.delete(event.detail.toString()) })
  }

  /** Topics the peer announced, sorted. */
  topicsOf (peerId: PeerId | string): string[] {
    return [...this.byPeer.get(peerId.toString()) ?? []].sort()
  }

  /** Records that discover reported the peer for the topic; false if it already had. */
  markReported (topic: string, peerId: PeerId): boolean {
    const peers = this.reported.get(topic) ?? new Set<string>()
    this.reported.set(topic, peers)
    const key = peerId.toString()
    if (peers.has(key)) return false
    peers.add(key)
    return true
  }
}

/**
 * Advertises subscribed topics in the DHT (a provider record under
 * topicKey(topic)). A DHT query needs a peer in the routing table. A node that
 * is connected, or dialling bootstrap peers, but has none yet waits for one,
 * up to the timeout; a node with neither does not wait. Either way a
 * topic that could not be advertised is advertised as soon as the routing
 * table gains a peer. kad-dht re-provides advertised keys before their
 * records expire.
 */
export class TopicAdvertiser {
  /** Topics to advertise: subscribed and not yet withdrawn. */
  private readonly wanted = new Set<string>()
  private readonly waiting = new Set<string>()
  private readonly inFlight = new Map<string, Promise<boolean>>()
  private readonly routingTable: ObservableRoutingTable
  private readonly timer: NodeJS.Timeout

  /**
   * @param expectingPeers whether a DHT peer should turn up soon even with no
   * connection yet (bootstrap peers are being dialled)
   */
  constructor (private readonly node: Libp2pNode, private readonly log: Logger, private readonly timeoutMs: number, private readonly expectingPeers: boolean) {
    this.routingTable = routingTable(node)
    this.routingTable.addEventListener('peer:add', this.retryWaiting)
    // A failed advertisement also retries on its own, for when no new peer turns up.
    this.timer = setInterval(() => { this.retryWaiting() }, ADVERTISE_RETRY_MS)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.routingTable.removeEventListener('peer:add', this.retryWaiting)
  }

  private readonly retryWaiting = (): void => {
    for (const topic of this.waiting) void this.attempt(topic)
  }

  /** Resolves true once the provider record is stored, false if advertising has to wait for a DHT peer. */
  async advertise (topic: string): Promise<boolean> {
    this.wanted.add(topic)
    return await this.attempt(topic)
  }

  /** Stops advertising the topic; provider records already stored on peers expire on their own. */
  async withdraw (topic: string): Promise<void> {
    this.wanted.delete(topic)
    this.waiting.delete(topic)
    await this.node.contentRouting.cancelReprovide(await topicKey(topic))
  }

  private async attempt (topic: string): Promise<boolean> {
    const running = this.inFlight.get(topic)
    if (running !== undefined) return await running
    if (this.routingTable.size === 0 && this.node.getConnections().length === 0 && !this.expectingPeers) {
      this.waiting.add(topic)
      return false
    }
    this.waiting.delete(topic)
    const attempt = this.provide(topic).finally(() => { this.inFlight.delete(topic) })
    this.inFlight.set(topic, attempt)
    return await attempt
  }

  private async provide (topic: string): Promise<boolean> {
    // One budget for waiting for a DHT peer and for the provide itself.
    const deadline = Date.now() + this.timeoutMs
    if (!(await dhtPeerAdded(this.routingTable, this.timeoutMs))) {
      if (this.wanted.has(topic)) this.waiting.add(topic)
      return false
    }
    try {
      await this.node.contentRouting.provide(await topicKey(topic), { signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())) })
      if (!this.wanted.has(topic)) await this.node.contentRouting.cancelReprovide(await topicKey(topic))
      this.log.info('advertised the topic in the DHT', { topic })
      return true
    } catch (err) {
      if (this.wanted.has(topic)) this.waiting.add(topic)
      this.log.info('could not advertise a topic in the DHT yet; will retry', { topic, reason: (err as Error).message })
      return false
    }
  }
}
