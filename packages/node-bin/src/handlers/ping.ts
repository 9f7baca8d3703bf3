import { ProtocolError } from '@p2p-node/protocol'
import type { PingCommand, ResultFields } from '@p2p-node/protocol'
import { DHT_TIMEOUT_MS } from '../constants.js'
import { toProtocolError } from '../errors.js'
import type { NodeContext } from '../context.js'

/** Round trip to a peer with libp2p's ping protocol, dialling it first if needed. */
export async function ping (ctx: NodeContext, cmd: PingCommand): Promise<ResultFields<'ping'>> {
  const signal = AbortSignal.timeout(cmd.timeoutMs ?? DHT_TIMEOUT_MS)
  const peerId = await ctx.names.peerOrName(cmd.peerId, signal)
  if (peerId.equals(ctx.node.peerId)) throw new ProtocolError('INVALID_PEER_ID', 'field "peerId": is this node\'s own peer id; ping another peer')
  try {
    return { peerId: peerId.toString(), latencyMs: await ctx.node.services.ping.ping(peerId, { signal }) }
  } catch (err) {
    throw toProtocolError(err, 'DIAL_FAILED', `ping ${cmd.peerId}`)
  }
}
