import type { CID } from 'multiformats/cid'
import type { PeerId } from '@libp2p/interface'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Libp2pNode } from './libp2p.js'
import type { Logger } from './output.js'
import { ADVERTISE_RETRY_MAX_MS, ADVERTISE_RETRY_MS, TOPIC_KEY_PREFIX } from './constants.js'
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

  /** The peers discover has reported for the topic so far (a live view). */
  reportedOn (topic: string): ReadonlySet<string> {
    return this.reported.get(topic) ?? new Set()
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

/** A topic whose last advertisement failed, and when to try it again. */
interface Retry {
  /** Waiting for a DHT peer: tried again as soon as the routing table gains one. */
  forPeer: boolean
  /** Time (Date.now()) of the next attempt. */
  at: number
  /** Pause before the attempt after this one, should it fail too, ms. */
  next: number
}

/**
 * Advertises subscribed topics in the DHT (a provider record under
 * topicKey(topic)). A DHT query needs a peer in the routing table. A node that
 * is connected, or dialling bootstrap peers, but has none yet waits for one; a
 * node with neither does not wait, and advertises as soon as one turns up.
 *
 * `advertise` answers within `replyMs`; an advertisement still under way then
 * goes on in the background, up to `attemptMs`, since starting it again would
 * only repeat its work. A failed one is tried again after ADVERTISE_RETRY_MS,
 * doubling up to ADVERTISE_RETRY_MAX_MS, so that many nodes that start
 * together and saturate the machine do not keep each other saturated. kad-dht
 * re-provides advertised keys before their records expire.
 */
export class TopicAdvertiser {
  /** Topics to advertise: subscribed and not yet withdrawn. */
  private readonly wanted = new Set<string>()
  private readonly retries = new Map<string, Retry>()
  private readonly inFlight = new Map<string, Promise<boolean>>()
  private readonly routingTable: ObservableRoutingTable
  private readonly timer: NodeJS.Timeout

  /**
   * @param expectingPeers whether a DHT peer should turn up soon even with no
   * connection yet (bootstrap peers are being dialled)
   */
  constructor (private readonly node: Libp2pNode, private readonly log: Logger, private readonly timing: { replyMs: number, attemptMs: number }, private readonly expectingPeers: boolean) {
    this.routingTable = routingTable(node)
    this.routingTable.addEventListener('peer:add', this.onPeerAdded)
    this.timer = setInterval(() => { this.retryDue() }, ADVERTISE_RETRY_MS)
    this.timer.unref()
  }

  stop (): void {
    clearInterval(this.timer)
    this.routingTable.removeEventListener('peer:add', this.onPeerAdded)
  }

  private readonly onPeerAdded = (): void => {
    for (const [topic, retry] of this.retries) if (retry.forPeer) void this.attempt(topic)
  }

  private retryDue (): void {
    const now = Date.now()
    for (const [topic, retry] of this.retries) if (retry.forPeer || retry.at <= now) void this.attempt(topic)
  }

  /** Resolves true once the provider record is stored; false if that has to wait for a DHT peer, failed, or takes longer than replyMs. */
  async advertise (topic: string): Promise<boolean> {
    this.wanted.add(topic)
    const attempt = this.attempt(topic)
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<false>((resolve) => { timer = setTimeout(() => { resolve(false) }, this.timing.replyMs) })
    try {
      return await Promise.race([attempt, late])
    } finally {
      clearTimeout(timer)
    }
  }

  /** Stops advertising the topic; provider records already stored on peers expire on their own. */
  async withdraw (topic: string): Promise<void> {
    this.wanted.delete(topic)
    this.retries.delete(topic)
    await this.node.contentRouting.cancelReprovide(await topicKey(topic))
  }

  private async attempt (topic: string): Promise<boolean> {
    const running = this.inFlight.get(topic)
    if (running !== undefined) return await running
    if (this.routingTable.size === 0 && this.node.getConnections().length === 0 && !this.expectingPeers) {
      this.failed(topic, true)
      return false
    }
    const attempt = this.provide(topic).finally(() => { this.inFlight.delete(topic) })
    this.inFlight.set(topic, attempt)
    return await attempt
  }

  private async provide (topic: string): Promise<boolean> {
    // The wait for a DHT peer is bounded by the reply time: a node that has none by then waits for peer:add.
    if (!(await dhtPeerAdded(this.routingTable, this.timing.replyMs))) {
      this.failed(topic, true)
      return false
    }
    try {
      await this.node.contentRouting.provide(await topicKey(topic), { signal: AbortSignal.timeout(this.timing.attemptMs) })
      this.retries.delete(topic)
      if (!this.wanted.has(topic)) await this.node.contentRouting.cancelReprovide(await topicKey(topic))
      this.log.info('advertised the topic in the DHT', { topic })
      return true
    } catch (err) {
      const retryInMs = this.failed(topic, false)
      this.log.info('could not advertise a topic in the DHT yet; will retry', { topic, reason: (err as Error).message, retryInMs })
      return false
    }
  }

  /** Schedules the next attempt for a topic still wanted; returns the pause before it, ms. */
  private failed (topic: string, forPeer: boolean): number | undefined {
    if (!this.wanted.has(topic)) return undefined
    const pause = forPeer ? ADVERTISE_RETRY_MS : this.retries.get(topic)?.next ?? ADVERTISE_RETRY_MS
    this.retries.set(topic, { forPeer, at: Date.now() + pause, next: Math.min(pause * 2, ADVERTISE_RETRY_MAX_MS) })
    return pause
  }
}
