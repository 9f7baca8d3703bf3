import { ProtocolError } from '@p2p-node/protocol'
import type { PublishCommand, ResultFields } from '@p2p-node/protocol'
import { encodePayload } from '../payload.js'
import type { NodeContext } from '../context.js'

/** Publishes to a gossipsub topic; NO_PEERS_SUBSCRIBED when no connected peer is on it. */
export async function publish (ctx: NodeContext, cmd: PublishCommand): Promise<ResultFields<'publish'>> {
  try {
    const { recipients } = await ctx.node.services.pubsub.publish(cmd.topic, encodePayload(cmd.data))
    return { topic: cmd.topic, recipients: recipients.length }
  } catch (err) {
    if ((err as Error).message === 'PublishError.NoPeersSubscribedToTopic') {
      throw new ProtocolError('NO_PEERS_SUBSCRIBED', `no connected peer subscribes to topic ${JSON.stringify(cmd.topic)}; connect or discover peers on it first, then publish again`)
    }
    throw err
  }
}
