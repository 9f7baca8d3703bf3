import type { ResultFields, SubscribeCommand } from '@p2p-node/protocol'
import { HISTORY_TIMEOUT_MS } from '../constants.js'
import type { NodeContext } from '../context.js'

/**
 * Joins the gossipsub topic and advertises it in the DHT so that `discover` on
 * other nodes finds this one. `advertised` is false when the node has no DHT
 * peer yet: the topic is then advertised as soon as it has one. With
 * `history`, it also catches up on the topic (see the history command) while
 * live messages already flow.
 */
export async function subscribe (ctx: NodeContext, cmd: SubscribeCommand): Promise<ResultFields<'subscribe'>> {
  ctx.node.services.pubsub.subscribe(cmd.topic)
  const advertised = ctx.advertiser.advertise(cmd.topic)
  if (cmd.history === undefined || cmd.history === false) return { topic: cmd.topic, advertised: await advertised }
  const range = cmd.history === true ? {} : cmd.history
  const history = await ctx.history.catchUp(cmd.topic, range, AbortSignal.timeout(HISTORY_TIMEOUT_MS))
  return { topic: cmd.topic, advertised: await advertised, history }
}
