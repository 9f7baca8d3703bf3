import { peerIdFromString } from '@libp2p/peer-id'
import { ProtocolError } from '@p2p-node/protocol'
import type { BanCommand, ResultFields, UnbanCommand } from '@p2p-node/protocol'
import type { PeerId } from '@libp2p/interface'
import type { NodeContext } from '../context.js'

/** Refuses every connection with the peer and closes the open ones. */
export async function ban (ctx: NodeContext, cmd: BanCommand): Promise<ResultFields<'ban'>> {
  const peerId = parse(cmd.peerId)
  if (peerId.equals(ctx.node.peerId)) throw new ProtocolError('INVALID_PEER_ID', 'field "peerId": is this node\'s own peer id')
  ctx.bans.add(peerId)
  await ctx.node.hangUp(peerId)
  ctx.log.info('banned a peer', { peerId: cmd.peerId })
  return { peerId: cmd.peerId }
}

/** Lifts a ban; unbanning a peer that is not banned is not an error. */
export async function unban (ctx: NodeContext, cmd: UnbanCommand): Promise<ResultFields<'unban'>> {
  ctx.bans.delete(parse(cmd.peerId))
  return { peerId: cmd.peerId }
}

function parse (value: string): PeerId {
  try {
    return peerIdFromString(value)
  } catch {
    throw new ProtocolError('INVALID_PEER_ID', `field "peerId": ${JSON.stringify(value.slice(0, 80))} is not a libp2p peer id`)
  }
}
