import type { PublishCommand, ResultFields } from '@p2p-node/protocol';
import type { NodeContext } from '../context.js';
/** Publishes to a gossipsub topic; NO_PEERS_SUBSCRIBED when no connected peer is on it. */
export declare function publish(ctx: NodeContext, cmd: PublishCommand): Promise<ResultFields<'publish'>>;
