import { ProtocolError } from '@p2p-node/protocol'
import type { PingCommand, ResultFields } from '@p2p-node/protocol'
import { DHT_TIMEOUT_MS } from '../constants.js'
import { peerNotFound, toProtocolError } from '../errors.js'
import type { NodeContext } from '../context.js'
import { hasRoute, refreshPeerAddresses } from '../dht.js'
import { Deadline } from '../deadline.js'

/**
 * Round trip to a peer with libp2p's ping protocol, dialling it first if
 * needed. If it cannot be dialled, the DHT is asked once for addresses this
 * node does not hold (old ones, or none: see send), and the ping tried again.
 */
export async function ping (ctx: NodeContext, cmd: PingCommand): Promise<ResultFields<'ping'>> {
  const timeoutMs = cmd.timeoutMs ?? DHT_TIMEOUT_MS
  const deadline = new Deadline(timeoutMs)
  const { signal } = deadline
  const peerId = await ctx.names.peerOrName(cmd.peerId, deadline)
  if (peerId.equals(ctx.node.peerId)) throw new ProtocolError('INVALID_PEER_ID', 'field "peerId": is this node\'s own peer id; ping another peer')
  for (let refreshed = false; ; refreshed = true) {
    try {
      return { peerId: peerId.toString(), latencyMs: await ctx.node.services.ping.ping(peerId, { signal }) }
    } catch (err) {
      const error = toProtocolError(err, 'DIAL_FAILED', `ping ${cmd.peerId}`)
      // A DHT lookup on a node without DHT peers waits for one until the
      // time limit: the peer was not found, rather than slow to answer.
      if (error.code === 'TIMEOUT' && !(await hasRoute(ctx.node, peerId))) {
        throw peerNotFound(`ping ${cmd.peerId}`, timeoutMs)
      }
      const unreached = (error.code === 'DIAL_FAILED' || error.code === 'PEER_NOT_FOUND') && ctx.node.getConnections(peerId).length === 0
      if (refreshed || !unreached || !(await refreshPeerAddresses(ctx.node, peerId, signal))) throw error
    }
  }
}
