import type { ResultFields, UnsubscribeCommand } from '@p2p-node/protocol'
import { topicKey } from '../topics.js'
import type { NodeContext } from '../context.js'

/** Leaves the gossipsub topic and stops re-advertising it in the DHT. Unsubscribing from a topic not joined is not an error. */
export async function unsubscribe (ctx: NodeContext, cmd: UnsubscribeCommand): Promise<ResultFields<'unsubscribe'>> {
  ctx.node.services.pubsub.unsubscribe(cmd.topic)
  await ctx.node.contentRouting.cancelReprovide(await topicKey(cmd.topic))
  return { topic: cmd.topic }
}
