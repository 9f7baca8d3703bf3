import { CID } from 'multiformats/cid';
import type { PeerId } from '@libp2p/interface';
import type { GossipSub } from '@libp2p/gossipsub';
import type { Libp2pNode } from './libp2p.js';
/** The DHT key under which subscribers of a topic advertise themselves (provider records). */
export declare function topicKey(topic: string): Promise<CID>;
/**
 * What this node knows of other peers' topics: kept from gossipsub's
 * subscription announcements, forgotten when the peer disconnects. Also
 * remembers which peers `discover` has already reported for each topic.
 */
export declare class TopicDirectory {
    private readonly byPeer;
    private readonly reported;
    constructor(node: Libp2pNode, pubsub: GossipSub);
    /** Topics the peer announced, sorted. */
    topicsOf(peerId: PeerId | string): string[];
    /** Records that discover reported the peer for the topic; false if it already had. */
    markReported(topic: string, peerId: PeerId): boolean;
}
