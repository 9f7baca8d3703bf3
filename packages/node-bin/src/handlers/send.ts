import { ProtocolError } from '@p2p-node/protocol'
import type { ResultFields, SendCommand } from '@p2p-node/protocol'
import { SEND_TIMEOUT_MS } from '../constants.js'
import { parsePeerId, toProtocolError } from '../errors.js'
import { encodePayload } from '../payload.js'
import type { NodeContext } from '../context.js'

/** Delivers one direct message; resolves once the receiver acknowledged it. */
export async function send (ctx: NodeContext, cmd: SendCommand): Promise<ResultFields<'send'>> {
  const peerId = parsePeerId(cmd.peerId)
  if (peerId.equals(ctx.node.peerId)) {
    throw new ProtocolError('INVALID_PEER_ID', 'field "peerId": is this node\'s own peer id; send to another peer')
  }
  try {
    await ctx.messaging.send(peerId, encodePayload(cmd.data), AbortSignal.timeout(cmd.timeoutMs ?? SEND_TIMEOUT_MS))
  } catch (err) {
    throw toProtocolError(err, 'DIAL_FAILED', `send to ${cmd.peerId}`)
  }
  return { peerId: cmd.peerId }
}
