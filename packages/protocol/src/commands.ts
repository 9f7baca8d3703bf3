import { z } from 'zod'
import { JsonValueSchema, MultiaddrStringSchema, PeerIdStringSchema, PortSchema, RequestIdSchema, TimeoutMsSchema, TopicSchema } from './common.js'

/** Dial bootstrap peers. The node already listens from launch; `port`, if given, must be the port it listens on. */
export const ConnectCommandSchema = z.object({
  type: z.literal('connect'),
  id: RequestIdSchema.optional(),
  port: PortSchema.optional(),
  /** Multiaddrs to dial, normally ending in /p2p/<peerId>. */
  bootstrapPeers: z.array(MultiaddrStringSchema).max(256).optional(),
  timeoutMs: TimeoutMsSchema.optional()
})

/** Reliable direct message; the result comes once the receiver has acknowledged it. */
export const SendCommandSchema = z.object({
  type: z.literal('send'),
  id: RequestIdSchema.optional(),
  peerId: PeerIdStringSchema,
  data: JsonValueSchema,
  timeoutMs: TimeoutMsSchema.optional()
})

/** Join a gossipsub topic and advertise it in the DHT. */
export const SubscribeCommandSchema = z.object({
  type: z.literal('subscribe'),
  id: RequestIdSchema.optional(),
  topic: TopicSchema
})

/** Leave a gossipsub topic. */
export const UnsubscribeCommandSchema = z.object({
  type: z.literal('unsubscribe'),
  id: RequestIdSchema.optional(),
  topic: TopicSchema
})

/** Publish to a gossipsub topic. */
export const PublishCommandSchema = z.object({
  type: z.literal('publish'),
  id: RequestIdSchema.optional(),
  topic: TopicSchema,
  data: JsonValueSchema
})

/** Find and dial peers subscribed to a topic. */
export const DiscoverCommandSchema = z.object({
  type: z.literal('discover'),
  id: RequestIdSchema.optional(),
  topic: TopicSchema,
  timeoutMs: TimeoutMsSchema.optional()
})

/** List connected peers. */
export const PeersCommandSchema = z.object({
  type: z.literal('peers'),
  id: RequestIdSchema.optional()
})

/** Stop the node, reply, exit 0. */
export const ShutdownCommandSchema = z.object({
  type: z.literal('shutdown'),
  id: RequestIdSchema.optional()
})

export const CommandSchema = z.discriminatedUnion('type', [
  ConnectCommandSchema,
  SendCommandSchema,
  SubscribeCommandSchema,
  UnsubscribeCommandSchema,
  PublishCommandSchema,
  DiscoverCommandSchema,
  PeersCommandSchema,
  ShutdownCommandSchema
])

export type ConnectCommand = z.infer<typeof ConnectCommandSchema>
export type SendCommand = z.infer<typeof SendCommandSchema>
export type SubscribeCommand = z.infer<typeof SubscribeCommandSchema>
export type UnsubscribeCommand = z.infer<typeof UnsubscribeCommandSchema>
export type PublishCommand = z.infer<typeof PublishCommandSchema>
export type DiscoverCommand = z.infer<typeof DiscoverCommandSchema>
export type PeersCommand = z.infer<typeof PeersCommandSchema>
export type ShutdownCommand = z.infer<typeof ShutdownCommandSchema>
export type Command = z.infer<typeof CommandSchema>
export type CommandType = Command['type']

/** The command names, in the order of CommandSchema. */
export const COMMAND_TYPES = CommandSchema.options.map((option) => option.shape.type.value) as readonly CommandType[]
