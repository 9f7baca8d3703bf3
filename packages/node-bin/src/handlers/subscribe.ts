import type { ResultFields, SubscribeCommand } from '@p2p-node/protocol'
import type { NodeContext } from '../context.js'

/**
 * Joins the gossipsub topic and advertises it in the DHT so that `discover` on
 * other nodes finds this one. `advertised` is false when the node has no DHT
 * peer yet: the topic is then advertised as soon as it has one.
 */
export async function subscribe (ctx: NodeContext, cmd: SubscribeCommand): Promise<ResultFields<'subscribe'>> {
  ctx.node.services.pubsub.subscribe(cmd.topic)
  return { topic: cmd.topic, advertised: await ctx.advertiser.advertise(cmd.topic) }
}
