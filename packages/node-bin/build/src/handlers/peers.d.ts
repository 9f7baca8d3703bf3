import type { PeersCommand, ResultFields } from '@p2p-node/protocol';
import type { NodeContext } from '../context.js';
/** Every connected peer with its connection addresses, announced topics and last measured round trip. */
export declare function peers(ctx: NodeContext, _cmd: PeersCommand): Promise<ResultFields<'peers'>>;
