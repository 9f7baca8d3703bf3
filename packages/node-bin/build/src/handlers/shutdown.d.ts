import type { ResultFields, ShutdownCommand } from '@p2p-node/protocol';
import type { NodeContext } from '../context.js';
/** Stops libp2p; the reply is written after it has stopped, then the process exits 0. */
export declare function shutdown(ctx: NodeContext, _cmd: ShutdownCommand): Promise<ResultFields<'shutdown'>>;
