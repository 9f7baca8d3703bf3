import type { ResultFields, UnsubscribeCommand } from '@p2p-node/protocol'
import type { NodeContext } from '../context.js'

/** Leaves the gossipsub topic and stops advertising it. Leaving a topic not joined is not an error. */
export async function unsubscribe (ctx: NodeContext, cmd: UnsubscribeCommand): Promise<ResultFields<'unsubscribe'>> {
  ctx.node.services.pubsub.unsubscribe(cmd.topic)
  await ctx.advertiser.withdraw(cmd.topic)
  return { topic: cmd.topic }
}
