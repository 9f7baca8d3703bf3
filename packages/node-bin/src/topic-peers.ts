import { lpStream } from '@libp2p/utils'
import { raceSignal } from 'race-signal'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { TOPIC_PEERS_PROTOCOL } from './constants.js'
import type { Libp2pNode } from './libp2p.js'
import type { Logger } from './output.js'

/** Most peers one answer lists, and most addresses per peer. */
const MAX_PEERS = 64
const MAX_ADDRS = 8
const MAX_FRAME_BYTES = 256 * 1024
const ANSWER_TIMEOUT_MS = 5_000
/** How long a node reuses its answer for a topic, ms. */
const ANSWER_CACHE_MS = 1_000

/** One entry of an answer, as sent. */
interface TopicPeer { id: string, addrs: string[] }

/**
 * Topic peer exchange, TOPIC_PEERS_PROTOCOL: one request per stream, a
 * varint-length-prefixed UTF-8 JSON frame each way.
 *
 *   {"topic"} → {"peers": [{"id": peerId, "addrs": [multiaddr, …]}, …]}
 *
 * The answer lists the peers the answering node knows to subscribe to the
 * topic (gossipsub's view of its connections) with their listen addresses.
 * discover uses it because a DHT provider lookup stops at 20 providers: in a
 * bigger topic, the peers found ask their own topic peers for the rest.
 */
export class TopicPeerExchange {
  private readonly encoder = new TextEncoder()
  private readonly decoder = new TextDecoder()
  private readonly answers = new Map<string, { at: number, peers: Promise<TopicPeer[]> }>()

  constructor (private readonly node: Libp2pNode, private readonly log: Logger) {}

  async start (): Promise<void> {
    await this.node.handle(TOPIC_PEERS_PROTOCOL, (stream, connection) => { void this.serve(stream, connection) }, { maxInboundStreams: 4, runOnLimitedConnection: true })
  }

  /**
   * Asks each of `peers` for its peers on the topic; resolves, at the latest
   * when `signal` aborts, with the peers the answers that came by then list,
   * other than those asked and those in `known`. The addresses of those not
   * connected are added to the peer store. Only these new peers are parsed: in
   * a big topic most of what each answer lists is known already.
   */
  async ask (peers: PeerId[], topic: string, known: ReadonlySet<string>, signal: AbortSignal): Promise<PeerId[]> {
    const skip = new Set([...peers.map(String), ...known, this.node.peerId.toString()])
    const found = new Map<string, string[]>()
    const requests = Promise.all(peers.map(async (peer) => {
      try {
        for (const { id, addrs } of await this.request(peer, topic, signal)) if (!skip.has(id) && !found.has(id)) found.set(id, addrs)
      } catch (err) {
        this.log.debug('a peer did not answer a topic peers request', { peerId: peer.toString(), topic, reason: (err as Error).message })
      }
    }))
    // A stream already open may not notice the abort at once: do not wait for it.
    await raceSignal(requests, signal).catch(() => {})
    const told: PeerId[] = []
    await Promise.all([...found].map(async ([key, addrs]) => {
      try {
        const id = peerIdFromString(key)
        told.push(id)
        if (this.node.getConnections(id).length > 0) return
        const multiaddrs = addrs.flatMap((addr) => { try { return [multiaddr(addr)] } catch { return [] } })
        if (multiaddrs.length > 0) await this.node.peerStore.merge(id, { multiaddrs })
      } catch (err) {
        this.log.debug('left out a peer a topic peers answer listed', { topic, peerId: key, reason: (err as Error).message })
      }
    }))
    return told
  }

  /** One question: the answer's entries, checked for shape only. */
  private async request (peer: PeerId, topic: string, signal: AbortSignal): Promise<TopicPeer[]> {
    const stream = await this.node.dialProtocol(peer, TOPIC_PEERS_PROTOCOL, { signal, runOnLimitedConnection: true })
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES })
      await lp.write(this.encoder.encode(JSON.stringify({ topic })), { signal })
      const answer = JSON.parse(this.decoder.decode((await lp.read({ signal })).subarray())) as { peers?: unknown }
      await stream.close({ signal })
      if (!Array.isArray(answer.peers)) throw new Error('malformed answer')
      return answer.peers.slice(0, MAX_PEERS).flatMap((entry: { id?: unknown, addrs?: unknown }) => typeof entry?.id === 'string'
        ? [{ id: entry.id, addrs: Array.isArray(entry.addrs) ? entry.addrs.slice(0, MAX_ADDRS).map(String) : [] }]
        : [])
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(ANSWER_TIMEOUT_MS)
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES })
      const { topic } = JSON.parse(this.decoder.decode((await lp.read({ signal })).subarray())) as { topic?: unknown }
      if (typeof topic !== 'string') throw new Error('request without a topic')
      const requester = connection.remotePeer.toString()
      const peers = (await this.topicPeers(topic)).filter(({ id }) => id !== requester).slice(0, MAX_PEERS)
      await lp.write(this.encoder.encode(JSON.stringify({ peers })), { signal })
      await stream.close({ signal })
    } catch (err) {
      this.log.debug('dropped a topic peers request', { peerId: connection.remotePeer.toString(), reason: (err as Error).message })
      stream.abort(err as Error)
    }
  }

  /**
   * The topic's subscribers with their addresses, MAX_PEERS + 1 at most (one
   * may be the requester). Kept ANSWER_CACHE_MS: when many nodes discover at
   * once, a node they all ask (a bootstrap node) reads its peer store once per
   * topic rather than once per request.
   */
  private async topicPeers (topic: string): Promise<TopicPeer[]> {
    const cached = this.answers.get(topic)
    if (cached !== undefined && performance.now() - cached.at < ANSWER_CACHE_MS) return await cached.peers
    const peers = Promise.all(this.node.services.pubsub.getSubscribers(topic).slice(0, MAX_PEERS + 1).map(async (peer) => {
      const addrs = await this.node.peerStore.get(peer).then((info) => info.addresses.map(({ multiaddr }) => multiaddr.toString()), () => [])
      return { id: peer.toString(), addrs: addrs.slice(0, MAX_ADDRS) }
    }))
    this.answers.set(topic, { at: performance.now(), peers })
    // Only this topic's entry, and only while it is fresh, is worth keeping.
    for (const [key, entry] of this.answers) if (performance.now() - entry.at >= ANSWER_CACHE_MS) this.answers.delete(key)
    return await peers
  }
}
