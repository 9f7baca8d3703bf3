import * as z from 'zod/mini'
import { HistoryRangeSchema, JsonValueSchema, MAX_RECORD_TTL_SECONDS, MultiaddrStringSchema, NameSchema, PeerIdStringSchema, PeerOrNameSchema, PortSchema, RecordKeySchema, RequestIdSchema, TimeoutMsSchema, TopicSchema } from './common.js'

/** Dial bootstrap peers. The node already listens from launch; `port`, if given, must be the port it listens on. */
export const ConnectCommandSchema = z.strictObject({
  type: z.literal('connect'),
  id: z.optional(RequestIdSchema),
  port: z.optional(PortSchema),
  /** Multiaddrs to dial, normally ending in /p2p/<peerId>. */
  bootstrapPeers: z.optional(z.array(MultiaddrStringSchema).check(z.maxLength(256))),
  timeoutMs: z.optional(TimeoutMsSchema)
})

/** Reliable direct message; the result comes once the receiver has acknowledged it. */
export const SendCommandSchema = z.strictObject({
  type: z.literal('send'),
  id: z.optional(RequestIdSchema),
  /** Peer id, or a name registered with -n/--name. */
  peerId: PeerOrNameSchema,
  data: JsonValueSchema,
  timeoutMs: z.optional(TimeoutMsSchema)
})

/** Join a gossipsub topic and advertise it in the DHT; with `history`, also catch up on what peers on it hold. */
export const SubscribeCommandSchema = z.strictObject({
  type: z.literal('subscribe'),
  id: z.optional(RequestIdSchema),
  topic: TopicSchema,
  /** true: replay every message peers on the topic hold that this node has not seen; an object narrows it. */
  history: z.optional(z.union([z.boolean(), HistoryRangeSchema]))
})

/** Leave a gossipsub topic. */
export const UnsubscribeCommandSchema = z.strictObject({
  type: z.literal('unsubscribe'),
  id: z.optional(RequestIdSchema),
  topic: TopicSchema
})

/** Publish to a gossipsub topic. */
export const PublishCommandSchema = z.strictObject({
  type: z.literal('publish'),
  id: z.optional(RequestIdSchema),
  topic: TopicSchema,
  data: JsonValueSchema
})

/** Ask peers on a topic for the messages this node has not seen, and replay them. */
export const HistoryCommandSchema = z.extend(HistoryRangeSchema, {
  type: z.literal('history'),
  id: z.optional(RequestIdSchema),
  topic: TopicSchema,
  timeoutMs: z.optional(TimeoutMsSchema)
})

/** Find peers subscribed to a topic and connect to enough of them for gossipsub. */
export const DiscoverCommandSchema = z.strictObject({
  type: z.literal('discover'),
  id: z.optional(RequestIdSchema),
  topic: TopicSchema,
  timeoutMs: z.optional(TimeoutMsSchema)
})

/** List connected peers. */
export const PeersCommandSchema = z.strictObject({
  type: z.literal('peers'),
  id: z.optional(RequestIdSchema)
})

/** Measure the round trip to a peer (dialling it if needed). */
export const PingCommandSchema = z.strictObject({
  type: z.literal('ping'),
  id: z.optional(RequestIdSchema),
  /** Peer id, or a name registered with -n/--name. */
  peerId: PeerOrNameSchema,
  timeoutMs: z.optional(TimeoutMsSchema)
})

/** Resolve a name registered with -n/--name to its peer id and addresses. */
export const LookupCommandSchema = z.strictObject({
  type: z.literal('lookup'),
  id: z.optional(RequestIdSchema),
  name: NameSchema,
  timeoutMs: z.optional(TimeoutMsSchema)
})

/** Store a signed application record in the DHT. */
export const DhtPutCommandSchema = z.strictObject({
  type: z.literal('dht_put'),
  id: z.optional(RequestIdSchema),
  key: RecordKeySchema,
  value: JsonValueSchema,
  /** Lifetime of the record; readers ignore it afterwards. */
  ttlSeconds: z.optional(z.number().check(z.int(), z.gt(0), z.lte(MAX_RECORD_TTL_SECONDS))),
  timeoutMs: z.optional(TimeoutMsSchema)
})

/** Read an application record from the DHT. */
export const DhtGetCommandSchema = z.strictObject({
  type: z.literal('dht_get'),
  id: z.optional(RequestIdSchema),
  key: RecordKeySchema,
  timeoutMs: z.optional(TimeoutMsSchema)
})

/** Announce this node as a provider of a key. */
export const DhtProvideCommandSchema = z.strictObject({
  type: z.literal('dht_provide'),
  id: z.optional(RequestIdSchema),
  key: RecordKeySchema,
  timeoutMs: z.optional(TimeoutMsSchema)
})

/** Find the providers of a key. */
export const DhtFindProvidersCommandSchema = z.strictObject({
  type: z.literal('dht_find_providers'),
  id: z.optional(RequestIdSchema),
  key: RecordKeySchema,
  timeoutMs: z.optional(TimeoutMsSchema)
})

/** Refuse every connection with a peer and close the open ones, until unban. */
export const BanCommandSchema = z.strictObject({
  type: z.literal('ban'),
  id: z.optional(RequestIdSchema),
  peerId: PeerIdStringSchema
})

/** Lift a ban. */
export const UnbanCommandSchema = z.strictObject({
  type: z.literal('unban'),
  id: z.optional(RequestIdSchema),
  peerId: PeerIdStringSchema
})

/** Stop the node, reply, exit 0. */
export const ShutdownCommandSchema = z.strictObject({
  type: z.literal('shutdown'),
  id: z.optional(RequestIdSchema)
})

export const CommandSchema = z.discriminatedUnion('type', [
  ConnectCommandSchema,
  SendCommandSchema,
  SubscribeCommandSchema,
  UnsubscribeCommandSchema,
  PublishCommandSchema,
  HistoryCommandSchema,
  DiscoverCommandSchema,
  PeersCommandSchema,
  PingCommandSchema,
  LookupCommandSchema,
  DhtPutCommandSchema,
  DhtGetCommandSchema,
  DhtProvideCommandSchema,
  DhtFindProvidersCommandSchema,
  BanCommandSchema,
  UnbanCommandSchema,
  ShutdownCommandSchema
])

export type ConnectCommand = z.infer<typeof ConnectCommandSchema>
export type SendCommand = z.infer<typeof SendCommandSchema>
export type SubscribeCommand = z.infer<typeof SubscribeCommandSchema>
export type UnsubscribeCommand = z.infer<typeof UnsubscribeCommandSchema>
export type PublishCommand = z.infer<typeof PublishCommandSchema>
export type HistoryCommand = z.infer<typeof HistoryCommandSchema>
export type DiscoverCommand = z.infer<typeof DiscoverCommandSchema>
export type PeersCommand = z.infer<typeof PeersCommandSchema>
export type PingCommand = z.infer<typeof PingCommandSchema>
export type LookupCommand = z.infer<typeof LookupCommandSchema>
export type DhtPutCommand = z.infer<typeof DhtPutCommandSchema>
export type DhtGetCommand = z.infer<typeof DhtGetCommandSchema>
export type DhtProvideCommand = z.infer<typeof DhtProvideCommandSchema>
export type DhtFindProvidersCommand = z.infer<typeof DhtFindProvidersCommandSchema>
export type BanCommand = z.infer<typeof BanCommandSchema>
export type UnbanCommand = z.infer<typeof UnbanCommandSchema>
export type ShutdownCommand = z.infer<typeof ShutdownCommandSchema>
export type Command = z.infer<typeof CommandSchema>
export type CommandType = Command['type']

/** Each command's schema, in the order of CommandSchema. @internal (for the codec) */
export const COMMAND_SCHEMAS = CommandSchema._zod.def.options
/** The `type` a command's schema takes. @internal (for the codec) */
export const commandTypeOf = (schema: typeof COMMAND_SCHEMAS[number]): CommandType => schema.shape.type._zod.def.values[0] as CommandType
/** The command names, in the order of CommandSchema. */
export const COMMAND_TYPES: readonly CommandType[] = COMMAND_SCHEMAS.map(commandTypeOf)
