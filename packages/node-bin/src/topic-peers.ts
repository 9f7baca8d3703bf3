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
/** How long one question may take, ms, whatever the deadline of the discover that asked it. */
const QUESTION_TIMEOUT_MS = 10_000
/** How long a peer an answer listed counts as on the topic, ms. */
const HEARD_TTL_MS = 30_000
/** Most peers remembered per topic. */
const MAX_HEARD = 1_024

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
 *
 * A question is not cut short by the deadline of the discover that asked it:
 * on a machine saturated by many nodes, the answer of a busy peer (a bootstrap
 * node everyone asks) comes late, and cutting it short wasted the work at both
 * ends, then asked again. It runs up to QUESTION_TIMEOUT_MS; discovers that ask
 * the same peer about the same topic meanwhile share it; the peers its answer
 * lists count as heard for HEARD_TTL_MS, and every discover of the topic in
 * that time reports them.
 */
export class TopicPeerExchange {
  private readonly encoder = new TextEncoder()
  private readonly decoder = new TextDecoder()
  private readonly answers = new Map<string, { at: number, peers: Promise<TopicPeer[]> }>()
  private readonly heard = new HeardPeers()
  /** The listen addresses of connected peers, as identify gave them, by peer id: answers are built without reading the peer store. */
  private readonly listenAddrs = new Map<string, string[]>()
  /** Questions under way, by peer and topic: each resolves to the peer ids the answer listed, or undefined if none came. */
  private readonly questions = new Map<string, Promise<string[] | undefined>>()

  constructor (private readonly node: Libp2pNode, private readonly log: Logger) {}

  async start (): Promise<void> {
    this.node.addEventListener('peer:identify', ({ detail }) => { this.listenAddrs.set(detail.peerId.toString(), detail.listenAddrs.slice(0, MAX_ADDRS).map(String)) })
    this.node.addEventListener('peer:disconnect', ({ detail }) => { this.listenAddrs.delete(detail.toString()) })
    await this.node.handle(TOPIC_PEERS_PROTOCOL, (stream, connection) => { void this.serve(stream, connection) }, { maxInboundStreams: 4, runOnLimitedConnection: true })
  }

  /**
   * Asks each of `peers` for its peers on the topic; resolves, at the latest
   * when `signal` aborts, with `told`: the peers heard of on the topic (by
   * these answers or by those of the last HEARD_TTL_MS), other than those in
   * `known`. A peer asked is one of them when another answer lists it: a
   * connected peer whose subscription gossipsub has not passed on (not yet,
   * on a new connection, or never, on a relayed one) is asked as a peer off
   * the topic, yet it is on it.
   *
   * `covered` is true when, of two or more answers that came in time, one
   * listed every peer the others did (counting the answering peer itself,
   * which the others may list): a node connected to the whole topic, as a
   * bootstrap node is, answered, and asking more peers would likely tell of
   * no one new. An answer cut at MAX_PEERS never covers the others.
   */
  async ask (peers: PeerId[], topic: string, known: ReadonlySet<string>, signal: AbortSignal): Promise<{ told: PeerId[], covered: boolean }> {
    const answers = new Map<string, string[]>()
    await raceSignal(Promise.all(peers.map(async (peer) => {
      const listed = await this.question(peer, topic)
      if (listed !== undefined) answers.set(peer.toString(), listed)
    })), signal).catch(() => {})
    const told = this.heard.on(topic).filter((peerId) => !known.has(peerId.toString()))
    return { told, covered: oneCoversAll(answers) }
  }

  /** Drops a peer heard of on the topic, for instance because it could not be dialled. */
  forget (topic: string, peerId: PeerId): void {
    this.heard.forget(topic, peerId.toString())
  }

  /**
   * The question to the peer about the topic: the one under way, or a new
   * one. It resolves to the peer ids the answer listed, or undefined if the
   * peer did not answer; it never rejects.
   */
  private async question (peer: PeerId, topic: string): Promise<string[] | undefined> {
    const key = `${peer.toString()} ${topic}`
    let question = this.questions.get(key)
    if (question === undefined) {
      question = this.request(peer, topic, AbortSignal.timeout(QUESTION_TIMEOUT_MS))
        .then(async (entries) => {
          await this.hear(topic, entries)
          this.log.debug('a peer answered a topic peers request', { peerId: peer.toString(), topic, peers: entries.length })
          return entries.map(({ id }) => id)
        })
        .catch((err: Error) => {
          this.log.debug('a peer did not answer a topic peers request', { peerId: peer.toString(), topic, reason: err.message })
          return undefined
        })
        .finally(() => { this.questions.delete(key) })
      this.questions.set(key, question)
    }
    return await question
  }

  /**
   * Records the peers an answer lists as heard of on the topic, and adds the
   * addresses of those not connected to the peer store. Only peers not heard
   * of already are parsed: in a big topic, most of what each answer lists is.
   */
  private async hear (topic: string, entries: TopicPeer[]): Promise<void> {
    const self = this.node.peerId.toString()
    const added: Array<Promise<void>> = []
    for (const { id, addrs } of entries) {
      if (id === self || this.heard.again(topic, id)) continue
      try {
        const peerId = peerIdFromString(id)
        this.heard.add(topic, peerId)
        if (this.node.getConnections(peerId).length > 0) continue
        const multiaddrs = addrs.flatMap((addr) => { try { return [multiaddr(addr)] } catch { return [] } })
        if (multiaddrs.length > 0) added.push(this.node.peerStore.merge(peerId, { multiaddrs }).then(() => {}))
      } catch (err) {
        this.log.debug('left out a peer a topic peers answer listed', { topic, peerId: id, reason: (err as Error).message })
      }
    }
    await Promise.all(added.map(async (merge) => { await merge.catch((err: Error) => { this.log.debug('could not keep the addresses of a peer a topic peers answer listed', { topic, reason: err.message }) }) }))
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
   * may be the requester), with the addresses identify gave (the peer store's
   * for a subscriber whose identify has not finished). Kept ANSWER_CACHE_MS:
   * when many nodes discover at once, a node they all ask (a bootstrap node)
   * builds the list once per topic rather than once per request.
   */
  private async topicPeers (topic: string): Promise<TopicPeer[]> {
    const cached = this.answers.get(topic)
    if (cached !== undefined && performance.now() - cached.at < ANSWER_CACHE_MS) return await cached.peers
    const peers = Promise.all(this.node.services.pubsub.getSubscribers(topic).slice(0, MAX_PEERS + 1).map(async (peer) => {
      const id = peer.toString()
      // A peer store read takes a lock and decodes the whole record: on a
      // bootstrap node that many ask at once, it was most of the answer's cost.
      const addrs = this.listenAddrs.get(id) ?? await this.node.peerStore.get(peer).then((info) => info.addresses.map(({ multiaddr }) => multiaddr.toString()).slice(0, MAX_ADDRS), () => [])
      return { id, addrs }
    }))
    this.answers.set(topic, { at: performance.now(), peers })
    // Only this topic's entry, and only while it is fresh, is worth keeping.
    for (const [key, entry] of this.answers) if (performance.now() - entry.at >= ANSWER_CACHE_MS) this.answers.delete(key)
    return await peers
  }
}

/**
 * Whether one answer (the peer ids it listed, by the answering peer's id)
 * lists, with the peer that gave it, every peer that the other answers list.
 * A lone answer says nothing of what others would list, and an answer of
 * MAX_PEERS entries may have been cut short: neither covers anything.
 */
export function oneCoversAll (answers: ReadonlyMap<string, string[]>): boolean {
  if (answers.size < 2) return false
  const all = new Set([...answers.values()].flat())
  for (const [answerer, listed] of answers) {
    if (listed.length >= MAX_PEERS) continue
    const covers = new Set([answerer, ...listed])
    if ([...all].every((id) => covers.has(id))) return true
  }
  return false
}

/**
 * The peers topic peers answers listed, by topic, each until HEARD_TTL_MS
 * after the last answer that listed it; at most MAX_HEARD per topic, the
 * most recently listed.
 */
class HeardPeers {
  /** By topic, then by peer id, in order of last hearing: the oldest first. */
  private readonly topics = new Map<string, Map<string, { peerId: PeerId, at: number }>>()

  /** The peers heard of on the topic, and not expired. */
  on (topic: string): PeerId[] {
    this.expire()
    return [...this.topics.get(topic)?.values() ?? []].map(({ peerId }) => peerId)
  }

  /**
   * If the peer was heard of on the topic within HEARD_TTL_MS, records this
   * hearing and returns true; an expired entry counts as new, so that its
   * addresses are taken again.
   */
  again (topic: string, id: string): boolean {
    const peers = this.topics.get(topic)
    const entry = peers?.get(id)
    if (peers === undefined || entry === undefined || entry.at < performance.now() - HEARD_TTL_MS) return false
    // Deleted and set again, to keep the order of last hearing.
    peers.delete(id)
    peers.set(id, { peerId: entry.peerId, at: performance.now() })
    return true
  }

  /** Records the first hearing of a peer on the topic (or the first since its entry expired). */
  add (topic: string, peerId: PeerId): void {
    let peers = this.topics.get(topic)
    if (peers === undefined) this.topics.set(topic, peers = new Map())
    const id = peerId.toString()
    // Deleted first, so that an expired entry set again moves to the newest end.
    peers.delete(id)
    peers.set(id, { peerId, at: performance.now() })
    for (const oldest of peers.keys()) {
      if (peers.size <= MAX_HEARD) break
      peers.delete(oldest)
    }
  }

  forget (topic: string, id: string): void {
    this.topics.get(topic)?.delete(id)
  }

  private expire (): void {
    const before = performance.now() - HEARD_TTL_MS
    for (const [topic, peers] of this.topics) {
      for (const [id, { at }] of peers) {
        if (at >= before) break
        peers.delete(id)
      }
      if (peers.size === 0) this.topics.delete(topic)
    }
  }
}
