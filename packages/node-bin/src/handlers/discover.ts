import type { DiscoverCommand, ResultFields } from '@p2p-node/protocol'
import type { PeerId } from '@libp2p/interface'
import { raceSignal } from 'race-signal'
import { DIAL_TIMEOUT_MS, DISCOVER_TIMEOUT_MS } from '../constants.js'
import { hasDirectConnection } from '../dht.js'
import type { NodeContext } from '../context.js'

/** discover asks at most this many connected peers for their topic peers. */
const EXCHANGE_PEERS = 16
/** Of those, at least this many (when connected) are peers not on the topic. */
const OTHER_PEERS_ASKED = 4
/** How many are asked first; the others only when step 2 of discover (below) says so. */
const FIRST_ASKED = 4
/**
 * discover dials peers it was told of only while fewer than this many topic
 * peers are connected: enough for a gossipsub mesh (D = 6) with some to spare,
 * without every node of a big topic connecting to every other.
 */
const TOPIC_CONNECTIONS_TARGET = 8
/** Most providers a DHT lookup returns (kad-dht's K). */
const PROVIDER_LIMIT = 20
/**
 * When each step must be done, as shares of the command's timeoutMs. Answers
 * and lookups that come later are not waited for; the last tenth is left for
 * the reply to get out even on a saturated machine.
 */
const DEADLINES = { ask: 0.4, lookup: 0.7, dial: 0.9 }

/**
 * Finds peers on a topic, in three steps, each with its deadline within the
 * command's timeoutMs (DEADLINES):
 *
 * 1. the peers gossipsub knows to subscribe to it (connected ones);
 * 2. the topic peers that up to EXCHANGE_PEERS connected peers know of: topic
 *    peers, and at least OTHER_PEERS_ASKED others when connected (a bootstrap
 *    node that does not subscribe still knows every subscriber connected to
 *    it); those peers are connected to what they tell, so it is live. The
 *    first FIRST_ASKED are asked first, the rest only if they told of a peer
 *    no discover of this topic had reported before and no one of their
 *    answers listed every peer the others did. Peers that answers heard
 *    in the last HEARD_TTL_MS listed count too, late answers included (see
 *    TopicPeerExchange);
 * 3. unless 20 are known by then, the topic's DHT providers, from a lookup
 *    made at most once every PROVIDER_LOOKUP_WINDOW_MS (see ProviderLookups). A
 *    provider record can outlive its node, so a provider is reported only
 *    once dialled.
 *
 * It then dials told peers, at random, until TOPIC_CONNECTIONS_TARGET topic
 * peers are connected; if one is connected (directly: gossipsub does not run
 * over a relay) but gossipsub has heard no subscriber yet, it waits for one
 * until the dials' deadline, so that a publish right after finds it. Then it
 * emits peer_discovered once per peer and topic, and returns every peer found
 * (connected or not).
 */
export async function discover (ctx: NodeContext, cmd: DiscoverCommand): Promise<ResultFields<'discover'>> {
  const { node } = ctx
  const timeoutMs = cmd.timeoutMs ?? DISCOVER_TIMEOUT_MS
  const started = performance.now()
  const deadline = (share: number): AbortSignal => AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs * share - (performance.now() - started))))
  const signal = deadline(DEADLINES.dial)
  const found = new Map<string, PeerId>()
  const add = (peerId: PeerId): void => { if (!peerId.equals(node.peerId)) found.set(peerId.toString(), peerId) }
  const connected = (peerId: PeerId): boolean => node.getConnections(peerId).length > 0
  /**
   * A dial still under way at the command's deadline goes on in the
   * background, up to DIAL_TIMEOUT_MS: cut short, the work of its handshake
   * would be lost at both ends, and the next discover would start it again.
   * Out of time says nothing about the peer.
   */
  const dial = async (peerId: PeerId): Promise<'connected' | 'unreachable' | 'out of time'> => {
    try {
      await raceSignal(node.dial(peerId, { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) }), signal)
      return 'connected'
    } catch (err) {
      if (signal.aborted) return 'out of time'
      ctx.log.info('found a peer on the topic but could not dial it', { topic: cmd.topic, peerId: peerId.toString(), reason: (err as Error).message })
      ctx.topicPeers.forget(cmd.topic, peerId)
      return 'unreachable'
    }
  }

  for (const peerId of node.services.pubsub.getSubscribers(cmd.topic)) add(peerId)

  const neighbours = [...new Map(node.getConnections().map((c) => [c.remotePeer.toString(), c.remotePeer])).values()]
  const onTopic = (peerId: PeerId): boolean => found.has(peerId.toString())
  // Topic peers know the subscribers connected to them; a few other peers are
  // asked too, since a bootstrap node, connected to nearly everyone, knows most.
  const topicPeers = shuffled(neighbours.filter(onTopic))
  const others = shuffled(neighbours.filter((peerId) => !onTopic(peerId)))
  const fromOthers = Math.min(others.length, Math.max(OTHER_PEERS_ASKED, EXCHANGE_PEERS - topicPeers.length))
  const asked = [...others.slice(0, fromOthers), ...topicPeers.slice(0, EXCHANGE_PEERS - fromOthers)]
  // Why the rest wait (the rule is step 2 above): each question is a stream
  // opened at both ends. Asking 4, not 16, once the topic is known halved the
  // CPU of a discover with 25 nodes polling; stopping when one answer listed
  // all the others did cut the questions of 50 nodes discovering at once on
  // an idle machine from about 15 per node to 5, and the CPU of discovery
  // from about 13 s to 5.
  const reported = ctx.topics.reportedOn(cmd.topic)
  const askSignal = deadline(DEADLINES.ask)
  for (const wave of [asked.slice(0, FIRST_ASKED), asked.slice(FIRST_ASKED)]) {
    if (wave.length === 0 || askSignal.aborted) break
    const { told, covered } = await ctx.topicPeers.ask(wave, cmd.topic, new Set(found.keys()), askSignal)
    for (const peerId of told) add(peerId)
    if (covered || !told.some((peerId) => !reported.has(peerId.toString()))) break
  }

  if (found.size < PROVIDER_LIMIT) {
    const providers = (await ctx.providerLookups.providers(cmd.topic, deadline(DEADLINES.lookup))).filter((peerId) => !found.has(peerId.toString()))
    const reached = await Promise.all(providers.map(async (peerId) => connected(peerId) || await dial(peerId) === 'connected'))
    providers.forEach((peerId, i) => { if (reached[i] === true) add(peerId) })
  }

  // Dials under way (an earlier discover's, say) count as connections: else
  // each discover of a node that polls would pick 8 more peers to dial.
  const dialling = new Set(node.getDialQueue().flatMap(({ peerId }) => peerId === undefined ? [] : [peerId.toString()]))
  const unconnected = shuffled([...found.values()].filter((peerId) => !connected(peerId) && !dialling.has(peerId.toString())))
  const wanted = Math.max(0, TOPIC_CONNECTIONS_TARGET - (found.size - unconnected.length))
  const dialled = await Promise.all(unconnected.slice(0, wanted).map(async (peerId) => await dial(peerId)))
  unconnected.slice(0, wanted).forEach((peerId, i) => { if (dialled[i] === 'unreachable') found.delete(peerId.toString()) })
  // A publish right after needs gossipsub to have heard a subscriber, and a peer just connected
  // announces its subscriptions a moment after the connection opens.
  if ([...found.values()].some((peerId) => hasDirectConnection(node, peerId))) await subscriberHeard(ctx, cmd.topic, signal)

  const peers: string[] = []
  for (const peerId of found.values()) {
    peers.push(peerId.toString())
    if (ctx.topics.markReported(cmd.topic, peerId)) {
      const topics = new Set([cmd.topic, ...ctx.topics.topicsOf(peerId)])
      ctx.events.emit({ type: 'peer_discovered', peerId: peerId.toString(), topics: [...topics].sort() })
    }
  }
  return { topic: cmd.topic, peers }
}

/**
 * Resolves once gossipsub knows a subscriber of the topic (at once if it does)
 * or `signal` aborts: a peer that never announces one (no gossipsub, or a
 * connection it does not run on) costs a discover the rest of its dials' time.
 */
async function subscriberHeard (ctx: NodeContext, topic: string, signal: AbortSignal): Promise<void> {
  const { pubsub } = ctx.node.services
  if (pubsub.getSubscribers(topic).length > 0 || signal.aborted) return
  await new Promise<void>((resolve) => {
    const done = (): void => {
      pubsub.removeEventListener('subscription-change', check)
      signal.removeEventListener('abort', done)
      resolve()
    }
    const check = (): void => { if (pubsub.getSubscribers(topic).length > 0) done() }
    pubsub.addEventListener('subscription-change', check)
    signal.addEventListener('abort', done)
  })
}

/** A copy of the items in random order. */
function shuffled<T> (items: T[]): T[] {
  const copy = [...items]
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1))
    ;[copy[i], copy[j]] = [copy[j] as T, copy[i] as T]
  }
  return copy
}
