import { lpStream } from '@libp2p/utils'
import { raceSignal } from 'race-signal'
import { peerIdFromString } from '@libp2p/peer-id'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { GossipSub, SignedMessage } from '@libp2p/gossipsub'
import { MAX_HISTORY_LIMIT } from '@p2p-node/protocol'
import type { CatchUp, HistoryRange } from '@p2p-node/protocol'
import { HISTORY_FETCH_IDLE_MS, HISTORY_MAX_FRAME_BYTES, HISTORY_MAX_PEERS, HISTORY_PROTOCOL, HISTORY_SERVE_TIMEOUT_MS, HISTORY_SUBSCRIPTION_WAIT_MS, HISTORY_SUMMARY_GRACE_MS } from '../constants.js'
import type { Libp2pNode } from '../libp2p.js'
import type { Logger } from '../output.js'
import { fromGossipsub, fromJson, messageId, toJson, verifySignature } from './message.js'
import type { HistoryMessage } from './message.js'
import { ReplayOrder } from './replay-order.js'
import type { HistoryStore, SummaryEntry } from './store.js'

/**
 * Wire format of HISTORY_PROTOCOL: one request per stream, as a
 * varint-length-prefixed UTF-8 JSON frame, answered on the same stream.
 *
 *   summary: {"topic", "since"?, "limit"?}
 *            → {"origins": [peerId, …], "ids": [[originIndex, seqnoHex, receivedAt], …]}
 *   fetch:   {"topic", "want": {peerId: [seqnoHex, …], …}}
 *            → one frame per message held, each a HistoryMessageJson, then the stream closes
 *
 * The asking node verifies each fetched message's signature against its origin
 * before delivering it, so the answering peer is trusted with nothing.
 */
interface SummaryRequest { topic: string, since?: number, limit?: number }
interface FetchRequest { topic: string, want: Record<string, string[]> }

/** A message some peers hold and this node has not seen. */
interface Wanted {
  id: string
  from: string
  seqno: bigint
  receivedAt: number
  /** Peers that listed it, fastest answer first. */
  holders: PeerId[]
  /** The message itself, when this node keeps it but never delivered it (dropped for a full stdout). */
  kept?: HistoryMessage
}

/** A peer is given this many chances (rounds) to be replaced when it fails to serve a message. */
const FETCH_ROUNDS = 3
/** Messages asked for in one fetch request (a server refuses more). */
const FETCH_BATCH = 64
/** How often a catch-up looks whether gossipsub has sent the subscription, ms. */
const SUBSCRIPTION_POLL_MS = 20

export interface HistoryServiceInit {
  store: HistoryStore
  log: Logger
  /** Delivers a replayed message to the parent (already checked and not seen before). */
  deliver: (message: HistoryMessage) => void
  /** Resolves when the parent can take more events. */
  writable: () => Promise<void>
}

/**
 * Keeps the history of subscribed topics (see HistoryStore), serves it to
 * peers, and catches up on a topic by asking its peers for what this node
 * has not seen.
 */
export class HistoryService {
  private readonly encoder = new TextEncoder()
  private readonly decoder = new TextDecoder()

  constructor (private readonly node: Libp2pNode, private readonly pubsub: GossipSub & { streamsOutbound: ReadonlyMap<string, unknown> }, private readonly init: HistoryServiceInit) {}

  async start (): Promise<void> {
    await this.node.handle(HISTORY_PROTOCOL, (stream, connection) => { void this.serve(stream, connection) }, {
      maxInboundStreams: 4,
      runOnLimitedConnection: true
    })
  }

  /** Records a live gossipsub message; false if it was seen before (and must not be delivered again). */
  record (message: SignedMessage): boolean {
    return this.init.store.add(fromGossipsub(message, Date.now()))
  }

  /** Forgets that a message was delivered (it was dropped on the way to the parent). */
  unsee (message: SignedMessage): void {
    this.init.store.unsee(message.topic, messageId(message.from.toString(), message.sequenceNumber))
  }

  /**
   * Asks the topic's peers what they hold, fetches what this node has not
   * seen, verifies it and delivers it, each origin's messages in publish
   * order. Peers that are slow to answer are left out once the first answer
   * is HISTORY_SUMMARY_GRACE_MS old; messages a peer fails to serve are asked
   * of another peer that holds them.
   */
  async catchUp (topic: string, range: HistoryRange, signal: AbortSignal): Promise<CatchUp> {
    const peers = this.candidates(topic)
    await this.subscriptionSent(peers, signal)
    const answers = await this.summaries(peers, topic, range, signal)
    const wanted = this.missing(topic, answers, range)
    const order = new ReplayOrder(wanted)
    let replayed = 0
    const release = async (messages: HistoryMessage[]): Promise<void> => {
      for (const message of messages) {
        // A message that arrived live in the meantime is not delivered again.
        // Kept with the time the serving peer received it, so it ages out of every history alike.
        if (!this.init.store.add({ ...message, receivedAt: Math.min(message.receivedAt, Date.now()) })) continue
        this.init.deliver(message)
        replayed++
      }
      // Bounded by the catch-up's limit: a parent that stopped reading does not hold it up for ever.
      await raceSignal(this.init.writable(), signal).catch(() => {})
    }

    for (const item of wanted) if (item.kept !== undefined) await release(order.arrived(item.kept))
    let pending = wanted.filter((item) => item.kept === undefined)
    for (let round = 0; round < FETCH_ROUNDS && pending.length > 0 && !signal.aborted; round++) {
      const byHolder = new Map<PeerId, Wanted[]>()
      const unserved: Wanted[] = []
      for (const item of pending) {
        const holder = item.holders[round]
        if (holder === undefined) {
          unserved.push(item)
          continue
        }
        const items = byHolder.get(holder)
        if (items === undefined) byHolder.set(holder, [item])
        else items.push(item)
      }
      const failed: Wanted[][] = await Promise.all([...byHolder].map(async ([peer, items]) => {
        // In batches, so that what a peer sends ahead of our reading stays small.
        const missed: Wanted[] = []
        for (let i = 0; i < items.length && !signal.aborted; i += FETCH_BATCH) {
          const batch = items.slice(i, i + FETCH_BATCH)
          const left = await this.fetch(peer, topic, batch, signal, async (message) => { await release(order.arrived(message)) })
          missed.push(...left)
          // A peer that failed a batch is not asked for the rest: other holders are, next round.
          if (left.length > 0) {
            missed.push(...items.slice(i + FETCH_BATCH))
            break
          }
        }
        return missed
      }))
      pending = failed.flat()
      for (const item of unserved) await release(order.givenUp(item.from, item.seqno))
    }
    for (const item of pending) await release(order.givenUp(item.from, item.seqno))
    return { replayed, peers: peers.length, answered: answers.length }
  }

  /**
   * Waits, HISTORY_SUBSCRIPTION_WAIT_MS at most, until gossipsub has a stream
   * to each of `peers` that speaks it, the new subscription having gone out on
   * it: gossipsub sends it only on open streams, and on each that opens
   * later. A peer that answered the summary before hearing of it would then
   * publish to everyone but this node, and in a small topic gossip would not
   * make up for it (a newcomer joins every mesh at once, and gossip skips mesh
   * peers). Gossipsub has no event for an opened stream: this looks every
   * SUBSCRIPTION_POLL_MS.
   */
  private async subscriptionSent (peers: PeerId[], signal: AbortSignal): Promise<void> {
    const deadline = performance.now() + HISTORY_SUBSCRIPTION_WAIT_MS
    let waiting = peers
    while (!signal.aborted && performance.now() < deadline) {
      const unsent = await Promise.all(waiting.map(async (peer) => !this.pubsub.streamsOutbound.has(peer.toString()) && await this.speaksGossipsub(peer)))
      waiting = waiting.filter((_peer, i) => unsent[i])
      if (waiting.length === 0) return
      await new Promise((resolve) => setTimeout(resolve, SUBSCRIPTION_POLL_MS))
    }
  }

  /** True unless identify says the peer has no gossipsub; a peer not identified yet may well have it. */
  private async speaksGossipsub (peer: PeerId): Promise<boolean> {
    const protocols = await this.node.peerStore.get(peer).then((known) => known.protocols, () => [])
    return protocols.length === 0 || protocols.some((protocol) => protocol.startsWith('/meshsub/'))
  }

  /** Peers on the topic first, then other connected peers (which may hold it from before). */
  private candidates (topic: string): PeerId[] {
    const peers = new Map<string, PeerId>()
    for (const peer of this.pubsub.getSubscribers(topic)) peers.set(peer.toString(), peer)
    for (const connection of this.node.getConnections()) peers.set(connection.remotePeer.toString(), connection.remotePeer)
    peers.delete(this.node.peerId.toString())
    return [...peers.values()].slice(0, HISTORY_MAX_PEERS)
  }

  private async summaries (peers: PeerId[], topic: string, range: HistoryRange, signal: AbortSignal): Promise<Array<{ peer: PeerId, entries: SummaryEntry[] }>> {
    const answers: Array<{ peer: PeerId, entries: SummaryEntry[] }> = []
    const stragglers = new AbortController()
    const firstAnswer = Promise.withResolvers<void>()
    const all = Promise.allSettled(peers.map(async (peer) => {
      try {
        const entries = await this.summary(peer, { topic, ...range }, AbortSignal.any([signal, stragglers.signal]))
        if (stragglers.signal.aborted) return
        answers.push({ peer, entries })
        firstAnswer.resolve()
      } catch (err) {
        if (!stragglers.signal.aborted) this.report(peer, topic, err as Error, 'a peer did not answer a history request')
      }
    }))
    const grace = firstAnswer.promise.then(async () => { await new Promise((resolve) => setTimeout(resolve, HISTORY_SUMMARY_GRACE_MS)) })
    await Promise.race([all, grace])
    stragglers.abort()
    return answers
  }

  /**
   * Messages listed in the answers, or kept here, that this node has not
   * delivered: the newest `limit` of them.
   */
  private missing (topic: string, answers: Array<{ peer: PeerId, entries: SummaryEntry[] }>, { since, limit = MAX_HISTORY_LIMIT }: HistoryRange): Wanted[] {
    const wanted = new Map<string, Wanted>()
    for (const [from, seqno, receivedAt] of this.init.store.summary(topic, { since })) {
      const id = messageId(from, seqno)
      if (!this.init.store.has(topic, id)) wanted.set(id, { id, from, seqno, receivedAt, holders: [], kept: this.init.store.get(topic, id) })
    }
    for (const { peer, entries } of answers) {
      for (const [from, seqno, receivedAt] of entries) {
        const id = messageId(from, seqno)
        if (this.init.store.has(topic, id)) continue
        const known = wanted.get(id)
        if (known === undefined) wanted.set(id, { id, from, seqno, receivedAt, holders: [peer] })
        else known.holders.push(peer)
      }
    }
    const newest = [...wanted.values()].sort((a, b) => a.receivedAt - b.receivedAt)
    return newest.slice(Math.max(0, newest.length - limit))
  }

  private async summary (peer: PeerId, request: SummaryRequest, signal: AbortSignal): Promise<SummaryEntry[]> {
    const stream = await this.node.dialProtocol(peer, HISTORY_PROTOCOL, { signal, runOnLimitedConnection: true })
    try {
      const lp = lpStream(stream, { maxDataLength: HISTORY_MAX_FRAME_BYTES })
      await lp.write(this.encode(request), { signal })
      const answer = this.parse(await lp.read({ signal })) as { origins?: unknown, ids?: unknown }
      await stream.close({ signal })
      if (!Array.isArray(answer.origins) || !Array.isArray(answer.ids) || answer.ids.length > MAX_HISTORY_LIMIT) throw new BadPeerError('sent a malformed summary')
      const origins = answer.origins
      if (!origins.every(isCanonicalPeerId)) throw new BadPeerError('sent a summary with an origin that is not a peer id in its usual form')
      const now = Date.now()
      return answer.ids.map((entry: unknown): SummaryEntry => {
        if (!Array.isArray(entry) || entry.length !== 3) throw new BadPeerError('sent a malformed summary')
        const [index, seqno, receivedAt] = entry as unknown[]
        const from = origins[index as number]
        if (typeof from !== 'string' || typeof seqno !== 'string' || !/^[0-9a-f]{1,16}$/.test(seqno) || typeof receivedAt !== 'number' || !Number.isFinite(receivedAt)) throw new BadPeerError('sent a malformed summary')
        // A time in the future would push real messages out of a `limit`.
        return [from, BigInt(`0x${seqno}`), Math.min(receivedAt, now)]
      })
    } catch (err) {
      stream.abort(err as Error)
      throw err
    }
  }

  /**
   * Fetches `items` from `peer`, handing each verified message to `onMessage`.
   * Resolves with the items it did not get: the peer failed, was slow, or
   * sent something forged, altered, unasked for or oversized (logged, and the
   * stream is dropped).
   */
  private async fetch (peer: PeerId, topic: string, items: Wanted[], signal: AbortSignal, onMessage: (message: HistoryMessage) => Promise<void>): Promise<Wanted[]> {
    const left = new Map(items.map((item) => [item.id, item]))
    const want: Record<string, string[]> = {}
    for (const item of items) (want[item.from] ??= []).push(item.seqno.toString(16))
    let stream: Stream | undefined
    try {
      stream = await this.node.dialProtocol(peer, HISTORY_PROTOCOL, { signal, runOnLimitedConnection: true })
      const lp = lpStream(stream, { maxDataLength: HISTORY_MAX_FRAME_BYTES })
      await lp.write(this.encode({ topic, want } satisfies FetchRequest), { signal })
      while (left.size > 0) {
        // A peer that goes quiet is given up on well before the whole catch-up's limit.
        const message = fromJson(topic, this.parse(await lp.read({ signal: AbortSignal.any([signal, AbortSignal.timeout(HISTORY_FETCH_IDLE_MS)]) })))
        if (message === undefined) throw new BadPeerError('sent a malformed history message')
        const id = messageId(message.from, message.seqno)
        if (!left.has(id)) throw new BadPeerError('sent a history message that was not asked for')
        if (!await verifySignature(message)) throw new BadPeerError('sent a history message whose signature does not match its origin (forged or altered)')
        left.delete(id)
        await onMessage(message)
      }
      await stream.close({ signal })
    } catch (err) {
      stream?.abort(err as Error)
      this.report(peer, topic, err as Error, 'a peer did not serve all the history asked for', { missing: left.size })
    }
    return [...left.values()]
  }

  /** Logs a failed request: a warning if the peer broke the protocol, else (slow, gone) a debug line. */
  private report (peer: PeerId, topic: string, err: Error, failed: string, meta: Record<string, unknown> = {}): void {
    const bad = err instanceof BadPeerError || ['InvalidDataLengthError', 'InvalidMessageLengthError'].includes(err.name)
    const details = { peerId: peer.toString(), topic, reason: err.message, ...meta }
    if (bad) this.init.log.warn('ignored a peer that answered a history request with bad data', details)
    else this.init.log.debug(failed, details)
  }

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const signal = AbortSignal.timeout(HISTORY_SERVE_TIMEOUT_MS)
    try {
      const lp = lpStream(stream, { maxDataLength: HISTORY_MAX_FRAME_BYTES })
      const request = this.parse(await lp.read({ signal })) as Partial<SummaryRequest & FetchRequest>
      if (typeof request.topic !== 'string') throw new Error('history request without a topic')
      const { topic } = request
      if (request.want !== undefined) {
        if (typeof request.want !== 'object' || request.want === null) throw new Error('malformed want')
        const ids = new Set<string>()
        for (const [from, seqnos] of Object.entries(request.want)) {
          if (!Array.isArray(seqnos)) throw new Error('malformed want')
          for (const seqno of seqnos) {
            if (typeof seqno !== 'string' || !/^[0-9a-f]{1,16}$/.test(seqno)) throw new Error('malformed want')
            ids.add(messageId(from, BigInt(`0x${seqno}`)))
            if (ids.size > FETCH_BATCH) throw new Error(`want lists more than ${FETCH_BATCH} messages`)
          }
        }
        for (const id of ids) {
          const message = this.init.store.get(topic, id)
          if (message !== undefined) await lp.write(this.encode(toJson(message)), { signal })
        }
      } else {
        const since = typeof request.since === 'number' ? request.since : undefined
        const limit = typeof request.limit === 'number' && request.limit > 0 ? Math.min(request.limit, MAX_HISTORY_LIMIT) : MAX_HISTORY_LIMIT
        const entries = this.init.store.summary(topic, { since, limit })
        const origins = new Map<string, number>()
        const ids = entries.map(([from, seqno, receivedAt]) => {
          let index = origins.get(from)
          if (index === undefined) origins.set(from, index = origins.size)
          return [index, seqno.toString(16), receivedAt]
        })
        await lp.write(this.encode({ origins: [...origins.keys()], ids }), { signal })
      }
      await stream.close({ signal })
    } catch (err) {
      this.init.log.debug('dropped a history request', { peerId: connection.remotePeer.toString(), reason: (err as Error).message })
      stream.abort(err as Error)
    }
  }

  private encode (value: object): Uint8Array {
    return this.encoder.encode(JSON.stringify(value))
  }

  private parse (frame: { subarray: () => Uint8Array }): unknown {
    let value: unknown
    try {
      value = JSON.parse(this.decoder.decode(frame.subarray()))
    } catch {
      throw new BadPeerError('sent a frame that is not JSON')
    }
    if (typeof value !== 'object' || value === null) throw new BadPeerError('sent a frame that is not a JSON object')
    return value
  }
}

/** True for a peer id in the form libp2p prints it (not one of its CID spellings, which would name the same origin twice). */
function isCanonicalPeerId (value: unknown): value is string {
  if (typeof value !== 'string' || value.length > 128) return false
  try {
    return peerIdFromString(value).toString() === value
  } catch {
    return false
  }
}

/** The peer broke the history protocol: it is not asked again in this catch-up. */
class BadPeerError extends Error {}
