import type { Command } from '@p2p-node/protocol';
import type { EventSink } from './output.js';
export interface StdioLoopInit {
    input: NodeJS.ReadableStream;
    sink: EventSink;
    maxLineBytes: number;
    /** Runs a command and resolves with its result fields, or throws. */
    execute: (cmd: Command) => Promise<object>;
    /** Called for a thrown value that is not a ProtocolError, before it is reported as INTERNAL. */
    onUnexpected: (err: unknown, cmd: Command) => void;
    /** Called once when the input ends. */
    onEnd: () => void;
}
/**
 * Reads commands line by line and answers each with exactly one result or
 * error. Commands run concurrently; a failure in one never touches another.
 */
export declare function runStdioLoop(init: StdioLoopInit): void;
