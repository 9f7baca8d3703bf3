import type { ErrorCode, Event, LogLevel, RequestId } from '@p2p-node/protocol';
/** The one place that writes to stdout. */
export interface EventSink {
    emit: (event: Event) => void;
}
/**
 * Writes events as lines to a stream, batching every event of one event-loop
 * turn into one write and waiting for 'drain' whenever the stream asks it to.
 */
export declare class LineWriter implements EventSink {
    private readonly stream;
    private queue;
    private scheduled;
    private waitingForDrain;
    private idle;
    constructor(stream: NodeJS.WritableStream);
    emit(event: Event): void;
    /** Resolves once everything emitted so far has been handed to the stream. */
    drained(): Promise<void>;
    private flush;
    private settleIdle;
}
/** Sends `log` events at or above a level. */
export declare class Logger {
    private readonly sink;
    private readonly level;
    private readonly namespace;
    constructor(sink: EventSink, level: LogLevel, namespace?: string);
    child(namespace: string): Logger;
    error(message: string, meta?: Record<string, unknown>): void;
    warn(message: string, meta?: Record<string, unknown>): void;
    info(message: string, meta?: Record<string, unknown>): void;
    debug(message: string, meta?: Record<string, unknown>): void;
    private log;
}
/** An `error` event, with the id of the command it answers when there is one. */
export declare function errorEvent(code: ErrorCode, message: string, id?: RequestId): Event;
