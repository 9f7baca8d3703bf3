import type { ConnectCommand, DialFailure, ResultFields } from '@p2p-node/protocol';
import type { NodeContext } from '../context.js';
/** Dials every bootstrap peer in parallel. DIAL_FAILED only when all of them fail. */
export declare function connect(ctx: NodeContext, cmd: ConnectCommand): Promise<ResultFields<'connect'>>;
/** Dials each address; reports who answered and why the others did not. */
export declare function dialAll(ctx: NodeContext, addrs: string[], timeoutMs: number): Promise<{
    connected: string[];
    failed: DialFailure[];
}>;
