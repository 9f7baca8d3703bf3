import type { ResultFields, UnsubscribeCommand } from '@p2p-node/protocol';
import type { NodeContext } from '../context.js';
/** Leaves the gossipsub topic and stops re-advertising it in the DHT. Unsubscribing from a topic not joined is not an error. */
export declare function unsubscribe(ctx: NodeContext, cmd: UnsubscribeCommand): Promise<ResultFields<'unsubscribe'>>;
