/** Stream protocol of direct messages (send). */
export declare const MESSAGE_PROTOCOL = "/p2p-node/message/1.0.0";
/** Protocol prefix of our Kademlia DHT, kept apart from the public IPFS DHT. */
export declare const DHT_PROTOCOL = "/p2p-node/kad/1.0.0";
/** Prefix hashed with a topic name into the DHT key that advertises the topic. */
export declare const TOPIC_KEY_PREFIX = "/p2p-node/topic/";
/** agentVersion announced through identify. */
export declare const AGENT_VERSION = "p2p-node/0.1.0";
/** Version printed by --version. */
export declare const VERSION = "0.1.0";
/** Default listen address: every IPv4 interface. */
export declare const DEFAULT_HOST = "0.0.0.0";
/** Default TCP port: 0, any free port. */
export declare const DEFAULT_PORT = 0;
/** Default longest stdin line, bytes. */
export declare const DEFAULT_MAX_LINE_BYTES: number;
/** Default log events level. */
export declare const DEFAULT_LOG_LEVEL = "warn";
/** Longest direct message body accepted from a peer, bytes. */
export declare const MAX_MESSAGE_BYTES: number;
/** send: how long to wait for the receiver's acknowledgement, ms. */
export declare const SEND_TIMEOUT_MS = 10000;
/** connect: how long each bootstrap dial may take, ms. */
export declare const DIAL_TIMEOUT_MS = 10000;
/** discover: how long the DHT provider lookup may take, ms. */
export declare const DISCOVER_TIMEOUT_MS = 10000;
/** subscribe: how long advertising the topic in the DHT may take, ms. */
export declare const PROVIDE_TIMEOUT_MS = 10000;
/** Shutdown: how long libp2p may take to stop before the process exits anyway, ms. */
export declare const STOP_GRACE_MS = 1500;
