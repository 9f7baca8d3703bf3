import { ProtocolError } from '@p2p-node/protocol'
import type { PublishCommand, ResultFields } from '@p2p-node/protocol'
import { payloadOf } from '../payload.js'
import type { NodeContext } from '../context.js'

/**
 * Publishes to a gossipsub topic; NO_PEERS_SUBSCRIBED when no connected peer
 * is on it. A node subscribed to the topic also keeps the message in its
 * history (gossipsub hands it back, see emitSelf), so `recipients` leaves the
 * node itself out. Publishes run PUBLISH_CONCURRENCY at a time (see
 * ctx.publishing).
 */
export async function publish (ctx: NodeContext, cmd: PublishCommand, line: string): Promise<ResultFields<'publish'>> {
  const { pubsub } = ctx.node.services
  const refused = (): ProtocolError => new ProtocolError('NO_PEERS_SUBSCRIBED', `no connected peer subscribes to topic ${JSON.stringify(cmd.topic)}; connect or discover peers on it first, then publish again`)
  // Checked first: gossipsub publishes to nobody but the node itself without complaint.
  if (pubsub.getSubscribers(cmd.topic).length === 0) throw refused()
  try {
    const payload = payloadOf(cmd.data, line)
    const { recipients } = await ctx.publishing.run(async () => await pubsub.publish(cmd.topic, payload))
    return { topic: cmd.topic, recipients: recipients.filter((peer) => !peer.equals(ctx.node.peerId)).length }
  } catch (err) {
    if ((err as Error).message === 'PublishError.NoPeersSubscribedToTopic') throw refused()
    throw err
  }
}
