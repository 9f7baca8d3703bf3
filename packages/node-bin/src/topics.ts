import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import type { PeerId } from '@libp2p/interface'
import type { GossipSub } from '@libp2p/gossipsub'
import type { Libp2pNode } from './libp2p.js'
import { TOPIC_KEY_PREFIX } from './constants.js'

/** The DHT key under which subscribers of a topic advertise themselves (provider records). */
export async function topicKey (topic: string): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(Buffer.from(TOPIC_KEY_PREFIX + topic, 'utf8')))
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
