/** Stream protocol of direct messages (send). */
export const MESSAGE_PROTOCOL = '/p2p-node/message/1.0.0'
/** Protocol prefix of our Kademlia DHT, kept apart from the public IPFS DHT. */
export const DHT_PROTOCOL = '/p2p-node/kad/1.0.0'
/** Request/response protocol of topic history (catch-up). */
export const HISTORY_PROTOCOL = '/p2p-node/history/1.0.0'
/** Request/response protocol of topic peer exchange (discover). */
export const TOPIC_PEERS_PROTOCOL = '/p2p-node/topic-peers/1.0.0'
/** Prefix hashed with a topic name into the DHT key that advertises the topic. */
export const TOPIC_KEY_PREFIX = '/p2p-node/topic/'
/** Version printed by --version. */
export const VERSION = '0.1.0'

/** Default listen address: every IPv4 interface. */
export const DEFAULT_HOST = '0.0.0.0'
/** Default TCP port: 0, any free port. */
export const DEFAULT_PORT = 0
/** Default longest stdin line, bytes. */
export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024
/** Default DHT mode: server, so that nodes on loopback and private networks answer each other. */
export const DEFAULT_DHT_MODE = 'server'
/** Default most open connections. */
export const DEFAULT_MAX_CONNECTIONS = 300
/** Most open connections of a --bootstrap-node. */
export const BOOTSTRAP_NODE_MAX_CONNECTIONS = 1_000
/** Lifetime of a name record; it is republished well before. */
export const NAME_TTL_MS = 10 * 60_000
/** How often the name record is republished. */
export const NAME_REPUBLISH_MS = 2 * 60_000
/** Default lifetime of a dht_put record. */
export const DEFAULT_RECORD_TTL_SECONDS = 3_600
/** Prefix hashed with a dht_provide key into the DHT key of its provider records. */
export const PROVIDE_KEY_PREFIX = '/p2p-node/key/'
/** lookup, dht_*, ping: default time limit, ms. */
export const DHT_TIMEOUT_MS = 10_000
/** A --bootstrap-node's relay: longest life of one relayed connection, ms. */
export const RELAY_DURATION_LIMIT_MS = 30 * 60_000
/** A --bootstrap-node's relay: most bytes one relayed connection carries (each way). */
export const RELAY_DATA_LIMIT_BYTES = 1n << 30n
/** With --mdns, peers found on the LAN are dialled while the node has fewer connections than this. */
export const MDNS_DIAL_BELOW = 50
/** Commands running at once; past it stdin is not read until half of them finished. */
export const MAX_PENDING_COMMANDS = 10_000
/** Shutdown: how long the last lines may take to reach a parent that is slow to read them, ms. */
export const FINAL_FLUSH_MS = 300
/** Default log events level. */
export const DEFAULT_LOG_LEVEL = 'warn'
/** Default largest direct message body, sent or accepted, bytes. */
export const DEFAULT_MAX_MESSAGE_BYTES = 1024 * 1024
/** Default direct messages per second one peer may send. */
export const DEFAULT_MAX_MESSAGES_PER_SECOND = 10_000
/** Default bytes of gossipsub messages queued for a parent that is behind on stdout. */
export const DEFAULT_STDOUT_BUFFER_BYTES = 4 * 1024 * 1024

/** send: how long to wait for the receiver's acknowledgement, ms. */
export const SEND_TIMEOUT_MS = 10_000
/** How long one dial may take, ms: each of `connect`'s, a send's, one of a peer found by mDNS. */
export const DIAL_TIMEOUT_MS = 10_000
/**
 * How long the node's own dials of its bootstrap peers (at start, and again
 * after a drop) may take, ms. Every node that starts dials the bootstrap node
 * at once: 50 of them on one 2-core host waited 10 to 25 s for its handshake,
 * now and then over 30 s. A dial given up is work both ends did for nothing,
 * and the retry comes later.
 */
export const BOOTSTRAP_DIAL_TIMEOUT_MS = 30_000
/**
 * How often each connection is pinged to measure its round-trip time
 * (connection-pings.ts; libp2p's connection monitor pinged every 10 s). When
 * each ping opened a stream on both ends, 20 idle nodes, about 16 connections
 * each, used 0.33 of this machine's 2 cores with 10 s pings and 0.05 without
 * them. Pings are yamux ping frames now; connection-pings.ts gives what idle
 * nodes use with them, once a minute.
 */
export const CONNECTION_PING_INTERVAL_MS = 60_000
/** How long one of those pings may take, ms. */
export const CONNECTION_PING_TIMEOUT_MS = 10_000
/** discover: the default time limit of the whole command (its steps end at shares of it), ms. */
export const DISCOVER_TIMEOUT_MS = 10_000
/** discover: how long a DHT provider lookup may run, and serves the discovers of its topic from its start, ms (see provider-lookups.ts). */
export const PROVIDER_LOOKUP_WINDOW_MS = 10_000
/** subscribe: how long the command waits for its topic's advertisement in the DHT, ms. */
export const PROVIDE_REPLY_MS = 10_000
/** How long one advertisement may go on, in the background once the subscribe has replied, ms. */
export const PROVIDE_ATTEMPT_MS = 60_000
/** stdin EOF: how long commands in flight may run on before the node stops, ms. */
export const EOF_SETTLE_MS = 500
/** First pause before a failed topic advertisement is tried again, ms; it doubles after each failure. */
export const ADVERTISE_RETRY_MS = 5_000
/** Longest pause between attempts to advertise a topic, ms. */
export const ADVERTISE_RETRY_MAX_MS = 60_000
/** Shutdown: how long libp2p may take to stop before the process exits anyway, ms. */
export const STOP_GRACE_MS = 1_500

/** Default messages of history kept per topic. */
export const DEFAULT_HISTORY_SIZE = 1_000
/** Default age past which a message leaves the history, seconds. */
export const DEFAULT_HISTORY_TTL_SECONDS = 3_600
/** Most bytes of message data the history keeps per topic. */
export const HISTORY_MAX_BYTES_PER_TOPIC = 64 * 1024 * 1024
/** subscribe with history, history: default time limit of the whole catch-up, ms. */
export const HISTORY_TIMEOUT_MS = 10_000
/** Catch-up: once the first peer answered, how long the others may take before they are left out, ms. */
export const HISTORY_SUMMARY_GRACE_MS = 1_000
/** Catch-up: longest wait for gossipsub to have a stream to each peer asked, so that they heard of the subscription first, ms. */
export const HISTORY_SUBSCRIPTION_WAIT_MS = 1_000
/** Catch-up: most peers asked. */
export const HISTORY_MAX_PEERS = 16
/** Largest frame on the history protocol, bytes. */
export const HISTORY_MAX_FRAME_BYTES = 8 * 1024 * 1024
/** Catch-up: how long a peer may stay silent in the middle of a fetch before it is given up on, ms. */
export const HISTORY_FETCH_IDLE_MS = 3_000
/** How long a peer's history request may take to serve, ms. */
export const HISTORY_SERVE_TIMEOUT_MS = 30_000
/** Publishes running at once; the others wait their turn, in order. */
export const PUBLISH_CONCURRENCY = 64

/** Idle memory reclaim (reclaim.ts): how often the node checks whether it went quiet, ms. */
export const RECLAIM_CHECK_MS = 2_000
/** Idle memory reclaim: event-loop utilisation over one check below which the node counts as idle. */
export const RECLAIM_IDLE_BELOW = 0.05
/** Idle memory reclaim: checks in a row that must find the node idle before it collects. */
export const RECLAIM_IDLE_CHECKS = 3
/** Idle memory reclaim: heap growth since the last collection that makes one worth running, bytes. */
export const RECLAIM_MIN_GROWTH_BYTES = 2 * 1024 * 1024
