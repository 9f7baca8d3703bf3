import { ProtocolError } from '@p2p-node/protocol';
import type { PeerId } from '@libp2p/interface';
import type { Multiaddr } from '@multiformats/multiaddr';
/** Parses a peer id field, or throws INVALID_PEER_ID naming it. */
export declare function parsePeerId(value: string, field?: string): PeerId;
/** Parses a multiaddr field, or throws INVALID_MULTIADDR naming it. */
export declare function parseMultiaddr(value: string, field: string): Multiaddr;
/**
 * Turns whatever a libp2p call threw into a ProtocolError. `failed` is the
 * code for an ordinary failure of the operation (DIAL_FAILED for dials);
 * errors nobody expected become INTERNAL.
 */
export declare function toProtocolError(err: unknown, failed: 'DIAL_FAILED' | 'INTERNAL', what: string): ProtocolError;
/** True for the error a listener gets when its port is taken. */
export declare function isAddressInUse(err: unknown): boolean;
