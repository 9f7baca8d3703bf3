import type { Command, CommandType, ResultFields } from '@p2p-node/protocol';
import type { NodeContext } from '../context.js';
export type Handler<T extends CommandType> = (ctx: NodeContext, cmd: Extract<Command, {
    type: T;
}>) => Promise<ResultFields<T>>;
/** One handler per command; the compiler checks that none is missing. */
export declare const handlers: {
    [T in CommandType]: Handler<T>;
};
