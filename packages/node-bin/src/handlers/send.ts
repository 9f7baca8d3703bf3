import { setTimeout as delay } from 'node:timers/promises'
import { ProtocolError } from '@p2p-node/protocol'
import type { ResultFields, SendCommand } from '@p2p-node/protocol'
import { SEND_TIMEOUT_MS } from '../constants.js'
import { peerNotFound, toProtocolError } from '../errors.js'
import { payloadOf } from '../payload.js'
import type { Multiaddr } from '@multiformats/multiaddr'
import { addRelayRoutes, removeRelayRoutes } from '../relay.js'
import { MaybeDeliveredError } from '../messaging.js'
import { hasRoute, refreshPeerAddresses } from '../dht.js'
import { Deadline } from '../deadline.js'
import type { NodeContext } from '../context.js'

/** First and longest pause between lookups of a peer the DHT does not know yet, ms. */
const LOOKUP_RETRY_MS = { first: 100, max: 1_000 }

/**
 * Delivers one direct message; resolves once the receiver acknowledged it.
 * A peer with no known address is looked up in the DHT, again and again until
 * the time limit: right after start, or right after the peer joined, the DHT
 * may not know it yet. Once, it also tries the peer through every connected
 * relay server, for peers that are only reachable through a relay. When the
 * dial fails, the addresses this node holds may be old (the peer restarted on
 * another port): once, it asks the DHT for the peer's current addresses, and
 * tries again if they are new. Nothing has been sent while the peer is not
 * found or not dialled, so the retries cannot deliver twice.
 */
export async function send (ctx: NodeContext, cmd: SendCommand, line: string): Promise<ResultFields<'send'>> {
  const timeoutMs = cmd.timeoutMs ?? SEND_TIMEOUT_MS
  const deadline = new Deadline(timeoutMs)
  const peerId = await ctx.names.peerOrName(cmd.peerId, deadline)
  if (peerId.equals(ctx.node.peerId)) {
    throw new ProtocolError('INVALID_PEER_ID', 'field "peerId": is this node\'s own peer id; send to another peer')
  }
  const body = payloadOf(cmd.data, line)
  let triedRelays = false
  let refreshed = false
  let relayRoutes: Multiaddr[] = []
  for (let pause = LOOKUP_RETRY_MS.first; ; pause = Math.min(pause * 2, LOOKUP_RETRY_MS.max)) {
    try {
      await ctx.messaging.send(peerId, body, deadline)
      return { peerId: peerId.toString() }
    } catch (err) {
      const error = toProtocolError(err, 'DIAL_FAILED', `send to ${cmd.peerId}`)
      // Sent but not acknowledged: retrying could deliver it twice.
      if (err instanceof MaybeDeliveredError) throw error
      // A DHT lookup on a node without DHT peers waits for one until the
      // time limit: nothing was sent, and the peer was not found.
      if (error.code === 'TIMEOUT' && relayRoutes.length === 0 && !(await hasRoute(ctx.node, peerId))) throw peerNotFound(`send to ${cmd.peerId}`, timeoutMs)
      if (relayRoutes.length > 0) {
        // The peer holds no reservation on our relays: back to looking it up.
        await removeRelayRoutes(ctx.node, peerId, relayRoutes)
        relayRoutes = []
        if (error.code !== 'DIAL_FAILED' && error.code !== 'PEER_NOT_FOUND') throw error
      } else if (error.code === 'DIAL_FAILED' && !refreshed) {
        refreshed = true
        if (await refreshPeerAddresses(ctx.node, peerId, deadline.signal)) continue
        throw error
      } else if (error.code !== 'PEER_NOT_FOUND') {
        throw error
      }
      // A peer nobody has an address for may still be reachable through a relay we use.
      if (!triedRelays && ctx.config.relay) {
        triedRelays = true
        relayRoutes = await addRelayRoutes(ctx.node, peerId)
        if (relayRoutes.length > 0) continue
      }
      // Once a dial has failed, libp2p keeps an entry for the peer without
      // addresses, and kad-dht answers its later lookups from that entry:
      // libp2p's own lookup on the next dial would not ask the network again.
      if (await refreshPeerAddresses(ctx.node, peerId, deadline.signal)) continue
      try {
        await delay(pause, undefined, { signal: deadline.signal })
      } catch {
        throw peerNotFound(`send to ${cmd.peerId}`, timeoutMs)
      }
    }
  }
}
