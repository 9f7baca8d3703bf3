import type { ResultFields, SubscribeCommand } from '@p2p-node/protocol'
import { PROVIDE_TIMEOUT_MS } from '../constants.js'
import { topicKey } from '../topics.js'
import type { NodeContext } from '../context.js'

/**
 * Joins the gossipsub topic, then advertises it with a DHT provider record so
 * that `discover` on other nodes finds this one. A failed advertisement does
 * not fail the subscription: `advertised` says how it went.
 */
export async function subscribe (ctx: NodeContext, cmd: SubscribeCommand): Promise<ResultFields<'subscribe'>> {
  ctx.node.services.pubsub.subscribe(cmd.topic)
  let advertised = false
  try {
    await ctx.node.contentRouting.provide(await topicKey(cmd.topic), { signal: AbortSignal.timeout(PROVIDE_TIMEOUT_MS) })
    advertised = true
  } catch (err) {
    ctx.log.info('could not advertise the topic in the DHT; discover on other nodes may not find this one until it is connected to more peers', { topic: cmd.topic, reason: (err as Error).message })
  }
  return { topic: cmd.topic, advertised }
}
