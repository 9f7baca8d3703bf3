import * as z from 'zod/mini'
import { ErrorCodeSchema } from './errors.js'
import { JsonValueSchema, MultiaddrStringSchema, PeerIdStringSchema, RequestIdSchema, TopicSchema } from './common.js'

/** Version of this wire protocol, sent in `ready`. Bumped only on incompatible changes. */
export const PROTOCOL_VERSION = 1

export const LogLevelSchema = z.enum(['error', 'warn', 'info', 'debug'])
export type LogLevel = z.infer<typeof LogLevelSchema>

/** First line on stdout: the node listens and takes commands. */
export const ReadyEventSchema = z.object({
  type: z.literal('ready'),
  peerId: PeerIdStringSchema,
  addrs: z.array(MultiaddrStringSchema),
  protocolVersion: z.number().check(z.int()),
  name: z.optional(z.string())
})

/**
 * A direct message (no `topic`) or a gossipsub message (`topic` set). `data` is
 * the decoded JSON payload; a payload that is not JSON arrives as `dataBase64`.
 */
export const MessageEventSchema = z.object({
  type: z.literal('message'),
  from: PeerIdStringSchema,
  topic: z.optional(TopicSchema),
  data: z.optional(JsonValueSchema),
  dataBase64: z.optional(z.string()),
  /** Set on a topic message that came from a catch-up (subscribe with history, or history), not live. */
  replayed: z.optional(z.literal(true))
}).check(z.refine((event) => (event.data !== undefined) !== (event.dataBase64 !== undefined), {
  message: 'exactly one of data and dataBase64 is set'
}))

export const PeerDiscoveredEventSchema = z.object({
  type: z.literal('peer_discovered'),
  peerId: PeerIdStringSchema,
  topics: z.array(TopicSchema)
})

export const PeerConnectedEventSchema = z.object({
  type: z.literal('peer_connected'),
  peerId: PeerIdStringSchema
})

export const PeerDisconnectedEventSchema = z.object({
  type: z.literal('peer_disconnected'),
  peerId: PeerIdStringSchema
})

/** A failed command (with its `id`, if it had one) or a failure no command caused. */
export const ErrorEventSchema = z.object({
  type: z.literal('error'),
  id: z.optional(RequestIdSchema),
  code: ErrorCodeSchema,
  message: z.string(),
  /** BACKPRESSURE only: how many gossipsub messages were dropped. */
  dropped: z.optional(z.number().check(z.int(), z.gt(0)))
})

export const LogEventSchema = z.object({
  type: z.literal('log'),
  level: LogLevelSchema,
  namespace: z.string(),
  message: z.string(),
  meta: z.optional(z.record(z.string(), z.unknown()))
})

const resultOf = <C extends string, S extends z.core.$ZodLooseShape>(command: C, shape: S) => z.object({
  type: z.literal('result'),
  id: z.optional(RequestIdSchema),
  command: z.literal(command),
  ...shape
})

export const DialFailureSchema = z.object({
  addr: MultiaddrStringSchema,
  code: ErrorCodeSchema,
  message: z.string()
})

export const PeerInfoSchema = z.object({
  peerId: PeerIdStringSchema,
  /** Remote addresses of the open connections to this peer. */
  addrs: z.array(MultiaddrStringSchema),
  /** Topics the peer told us it subscribes to. */
  topics: z.array(TopicSchema),
  /** Lowest round-trip time, in ms, that libp2p's connection monitor measured over the connections to the peer; absent until measured. */
  latencyMs: z.optional(z.number().check(z.gte(0))),
  /** The peer's gossipsub score as this node computes it (0 for a peer that has done nothing either way; below 0, it is pruned from this node's meshes). */
  score: z.optional(z.number())
})

export const ConnectResultSchema = resultOf('connect', {
  peerId: PeerIdStringSchema,
  addrs: z.array(MultiaddrStringSchema),
  /** Peer ids of the bootstrap peers now connected. */
  connected: z.array(PeerIdStringSchema),
  /** Bootstrap addresses that could not be dialled (only when at least one could). */
  failed: z.array(DialFailureSchema)
})
export const SendResultSchema = resultOf('send', { peerId: PeerIdStringSchema })
/** How a catch-up went. Its replayed messages were emitted before the result. */
export const CatchUpSchema = z.object({
  /** Messages replayed (emitted with replayed: true). */
  replayed: z.number().check(z.int(), z.gte(0)),
  /** Peers asked. */
  peers: z.number().check(z.int(), z.gte(0)),
  /** Peers that answered in time. */
  answered: z.number().check(z.int(), z.gte(0))
})
export const SubscribeResultSchema = resultOf('subscribe', {
  topic: TopicSchema,
  /** Whether advertising the topic in the DHT (a provider record) completed; false: it is retried. */
  advertised: z.boolean(),
  /** Only when the command asked for history. */
  history: z.optional(CatchUpSchema)
})
export const UnsubscribeResultSchema = resultOf('unsubscribe', { topic: TopicSchema })
export const PublishResultSchema = resultOf('publish', {
  topic: TopicSchema,
  /** Number of peers the message was sent to. */
  recipients: z.number().check(z.int(), z.gte(0))
})
export const HistoryResultSchema = resultOf('history', { topic: TopicSchema, ...CatchUpSchema.shape })
export const DiscoverResultSchema = resultOf('discover', {
  topic: TopicSchema,
  /** Every peer found on the topic, newly or already known, connected or not. */
  peers: z.array(PeerIdStringSchema)
})
export const PeersResultSchema = resultOf('peers', { peers: z.array(PeerInfoSchema) })
export const PingResultSchema = resultOf('ping', {
  peerId: PeerIdStringSchema,
  /** Round-trip time of the ping, ms. */
  latencyMs: z.number().check(z.gte(0))
})
export const LookupResultSchema = resultOf('lookup', {
  name: z.string(),
  peerId: PeerIdStringSchema,
  /** Addresses known for the peer (peer store, then DHT peer routing); may be empty. */
  addrs: z.array(MultiaddrStringSchema)
})
export const DhtPutResultSchema = resultOf('dht_put', {
  key: z.string(),
  /** When readers stop accepting the record, ms since the epoch. */
  expiresAt: z.number().check(z.int())
})
export const DhtGetResultSchema = resultOf('dht_get', {
  key: z.string(),
  value: JsonValueSchema,
  /** Peer id of the node that signed (stored) the record. */
  publisher: PeerIdStringSchema,
  expiresAt: z.number().check(z.int())
})
export const DhtProvideResultSchema = resultOf('dht_provide', { key: z.string() })
export const ProviderSchema = z.object({
  peerId: PeerIdStringSchema,
  addrs: z.array(MultiaddrStringSchema)
})
export const DhtFindProvidersResultSchema = resultOf('dht_find_providers', {
  key: z.string(),
  providers: z.array(ProviderSchema)
})
export const BanResultSchema = resultOf('ban', { peerId: PeerIdStringSchema })
export const UnbanResultSchema = resultOf('unban', { peerId: PeerIdStringSchema })
export const ShutdownResultSchema = resultOf('shutdown', {})

/** The reply to a successful command. `command` says which; the other fields depend on it. */
export const ResultEventSchema = z.discriminatedUnion('command', [
  ConnectResultSchema,
  SendResultSchema,
  SubscribeResultSchema,
  UnsubscribeResultSchema,
  PublishResultSchema,
  HistoryResultSchema,
  DiscoverResultSchema,
  PeersResultSchema,
  PingResultSchema,
  LookupResultSchema,
  DhtPutResultSchema,
  DhtGetResultSchema,
  DhtProvideResultSchema,
  DhtFindProvidersResultSchema,
  BanResultSchema,
  UnbanResultSchema,
  ShutdownResultSchema
])

/** Any event, told apart by `type` (and a result by `command`), so a line is checked against its own schema only. */
export const EventSchema = z.discriminatedUnion('type', [
  ReadyEventSchema,
  MessageEventSchema,
  PeerDiscoveredEventSchema,
  PeerConnectedEventSchema,
  PeerDisconnectedEventSchema,
  ErrorEventSchema,
  LogEventSchema,
  ResultEventSchema
])

export type ReadyEvent = z.infer<typeof ReadyEventSchema>
export type MessageEvent = z.infer<typeof MessageEventSchema>
export type PeerDiscoveredEvent = z.infer<typeof PeerDiscoveredEventSchema>
export type PeerConnectedEvent = z.infer<typeof PeerConnectedEventSchema>
export type PeerDisconnectedEvent = z.infer<typeof PeerDisconnectedEventSchema>
export type ErrorEvent = z.infer<typeof ErrorEventSchema>
export type LogEvent = z.infer<typeof LogEventSchema>
export type DialFailure = z.infer<typeof DialFailureSchema>
export type CatchUp = z.infer<typeof CatchUpSchema>
export type PeerInfo = z.infer<typeof PeerInfoSchema>
export type Provider = z.infer<typeof ProviderSchema>
export type ResultEvent = z.infer<typeof ResultEventSchema>
export type Event = z.infer<typeof EventSchema>
export type EventType = Event['type']

type ResultFor<C extends ResultEvent['command']> = Extract<ResultEvent, { command: C }>
/** The fields a handler returns for command C: the result without its envelope. */
export type ResultFields<C extends ResultEvent['command']> = Omit<ResultFor<C>, 'type' | 'id' | 'command'>
