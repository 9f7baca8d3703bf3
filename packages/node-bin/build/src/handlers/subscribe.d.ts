import type { ResultFields, SubscribeCommand } from '@p2p-node/protocol';
import type { NodeContext } from '../context.js';
/**
 * Joins the gossipsub topic, then advertises it with a DHT provider record so
 * that `discover` on other nodes finds this one. A failed advertisement does
 * not fail the subscription: `advertised` says how it went.
 */
export declare function subscribe(ctx: NodeContext, cmd: SubscribeCommand): Promise<ResultFields<'subscribe'>>;
