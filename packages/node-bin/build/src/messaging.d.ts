import type { PeerId } from '@libp2p/interface';
import type { Libp2pNode } from './libp2p.js';
import type { Logger } from './output.js';
export type MessageHandler = (from: PeerId, body: Uint8Array) => void;
export interface DirectMessagingInit {
    /** Called for every message received, before it is acknowledged. */
    onMessage: MessageHandler;
    log: Logger;
}
/** Reliable, acknowledged direct messages over one long-lived stream per peer. */
export declare class DirectMessaging {
    private readonly node;
    private readonly init;
    private readonly channels;
    constructor(node: Libp2pNode, init: DirectMessagingInit);
    start(): Promise<void>;
    /**
     * Sends one message and resolves once the peer acknowledged it. Opens the
     * stream first if there is none (dialling the peer if needed).
     */
    send(peerId: PeerId, body: Uint8Array, signal: AbortSignal): Promise<void>;
    /** Closes every outbound stream; pending sends fail. */
    stop(): void;
    private channel;
    private open;
    private serve;
}
