import type { ResultFields, SendCommand } from '@p2p-node/protocol';
import type { NodeContext } from '../context.js';
/** Delivers one direct message; resolves once the receiver acknowledged it. */
export declare function send(ctx: NodeContext, cmd: SendCommand): Promise<ResultFields<'send'>>;
