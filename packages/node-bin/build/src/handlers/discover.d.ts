import type { DiscoverCommand, ResultFields } from '@p2p-node/protocol';
import type { NodeContext } from '../context.js';
/**
 * Finds peers on a topic (gossipsub's subscribers plus the topic's DHT
 * providers), dials the ones not yet connected, emits peer_discovered once per
 * peer and topic, and returns every peer found that is now connected.
 */
export declare function discover(ctx: NodeContext, cmd: DiscoverCommand): Promise<ResultFields<'discover'>>;
