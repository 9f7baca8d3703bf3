import type { Libp2p } from '@libp2p/interface';
import type { GossipSub } from '@libp2p/gossipsub';
import type { KadDHT } from '@libp2p/kad-dht';
import type { Ping } from '@libp2p/ping';
import type { Identify } from '@libp2p/identify';
export type Services = {
    identify: Identify;
    ping: Ping;
    pubsub: GossipSub;
    dht: KadDHT;
};
/** The libp2p node with the services p2p-node uses. */
export type Libp2pNode = Libp2p<Services>;
export interface Libp2pNodeInit {
    /** Interface to listen on. */
    host: string;
    /** TCP port, 0 for any free port. */
    port: number;
    /** Multiaddrs (with /p2p/<peerId>) tagged and redialled by the bootstrap module. */
    bootstrapPeers: string[];
}
/**
 * Builds (does not start) a libp2p node: TCP, Noise, Yamux, identify, ping,
 * gossipsub with signed messages, and a Kademlia DHT under our own protocol
 * prefix in server mode, keeping private and loopback addresses so that nodes on
 * one host or one LAN find each other.
 */
export declare function createLibp2pNode(init: Libp2pNodeInit): Promise<Libp2pNode>;
