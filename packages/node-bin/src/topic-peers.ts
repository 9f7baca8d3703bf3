import { lpStream } from '@libp2p/utils'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { TOPIC_PEERS_PROTOCOL } from './constants.js'
import type { Libp2pNode } from './libp2p.js'
import type { Logger } from './output.js'

/** Most peers one answer lists, and most addresses per peer. */
const MAX_PEERS = 64
const MAX_ADDRS = 8
const MAX_FRAME_BYTES = 256 * 1024
const ANSWER_TIMEOUT_MS = 5_000

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

  constructor (private readonly node: Libp2pNode, private readonly log: Logger) {}

  async start (): Promise<void> {
    await this.node.handle(TOPIC_PEERS_PROTOCOL, (stream, connection) => { void this.serve(stream, connection) }, { maxInboundStreams: 4, runOnLimitedConnection: true })
  }

  /** Asks each of `peers` for its peers on the topic; resolves with those it did not ask, their addresses now in the peer store. */
  async ask (peers: PeerId[], topic: string, signal: AbortSignal): Promise<PeerId[]> {
    const asked = new Set(peers.map(String))
    const found = new Map<string, PeerId>()
    await Promise.all(peers.map(async (peer) => {
      try {
        for (const { id, addrs } of await this.request(peer, topic, signal)) {
          const key = id.toString()
          if (asked.has(key) || found.has(key) || id.equals(this.node.peerId)) continue
          if (addrs.length > 0) await this.node.peerStore.merge(id, { multiaddrs: addrs })
          found.set(key, id)
        }
      } catch (err) {
        this.log.debug('a peer did not answer a topic peers request', { peerId: peer.toString(), topic, reason: (err as Error).message })
      }
    }))
    return [...found.values()]
  }

  private async request (peer: PeerId, topic: string, signal: AbortSignal): Promise<Array<{ id: PeerId, addrs: Multiaddr[] }>> {
    const stream = await this.node.dialProtocol(peer, TOPIC_PEERS_PROTOCOL, { signal, runOnLimitedConnection: true })
    try {
      const lp = lpStream(stream, { maxDataLength: MAX_FRAME_BYTES })
      await lp.write(this.encoder.encode(JSON.stringify({ topic })), { signal })
      const answer = JSON.parse(this.decoder.decode((await lp.read({ signal })).subarray())) as { peers?: unknown }
      await stream.close({ signal })
      if (!Array.isArray(answer.peers)) throw new Error('malformed answer')
      return answer.peers.slice(0, MAX_PEERS).flatMap((entry: { id?: unknown, addrs?: unknown }) => {
        try {
          const addrs = Array.isArray(entry.addrs) ? entry.addrs.slice(0, MAX_ADDRS).map((addr) => multiaddr(String(addr))) : []
          return [{ id: peerIdFromString(String(entry.id)), addrs }]
        } catch {
          return []
        }
      })
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
      const peers = []
      for (const peer of this.node.services.pubsub.getSubscribers(topic)) {
        if (peer.equals(connection.remotePeer)) continue
        const addrs = await this.node.peerStore.get(peer, { signal }).then((info) => info.addresses.map(({ multiaddr }) => multiaddr.toString()), () => [])
        peers.push({ id: peer.toString(), addrs: addrs.slice(0, MAX_ADDRS) })
        if (peers.length === MAX_PEERS) break
      }
      await lp.write(this.encoder.encode(JSON.stringify({ peers })), { signal })
      await stream.close({ signal })
    } catch (err) {
      this.log.debug('dropped a topic peers request', { peerId: connection.remotePeer.toString(), reason: (err as Error).message })
      stream.abort(err as Error)
    }
  }
}
