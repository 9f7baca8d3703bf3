// zod/mini rather than zod: the same checks and messages, written as
// functions a bundler drops when unused. That counts because every start of
// the executable copies what its bundle holds out of the startup snapshot:
// zod took 290 kB of the bundle, zod/mini takes 47 kB. Import it as a
// namespace (`* as z`), which esbuild tree-shakes, not as `{ z }`, which
// brings the whole of zod/mini (250 kB).
import * as z from 'zod/mini'
import en from 'zod/v4/locales/en.js'

// zod/mini has no language of its own until one is set, and every
// INVALID_COMMAND message quotes zod's: English, as the rest of the protocol,
// unless the program using this package chose a language for zod already
// (the setting is shared by every copy of zod in the process).
if (z.config().localeError === undefined) z.config(en())

/** Longest string request id, characters. */
export const MAX_REQUEST_ID_LENGTH = 256
/** Longest peer id or name a command takes, characters. */
export const MAX_PEER_LENGTH = 128
/** Longest topic name, characters. */
export const MAX_TOPIC_LENGTH = 512
/** Longest per-command time limit, ms. */
export const MAX_TIMEOUT_MS = 600_000

/** Ties a reply to its command. Strings up to MAX_REQUEST_ID_LENGTH characters or safe integers. */
export const RequestIdSchema = z.union([z.string().check(z.maxLength(MAX_REQUEST_ID_LENGTH)), z.number().check(z.int())])
export type RequestId = z.infer<typeof RequestIdSchema>

/**
 * Any JSON value (object, array, string, number, boolean or null). Between
 * peers it travels as its UTF-8 JSON encoding. Only absence is rejected: a line
 * that parsed as JSON holds nothing else, so there is nothing more to check.
 */
export const JsonValueSchema = z.unknown().check(z.refine((value) => value !== undefined, 'is required (any JSON value)'))
/** Any JSON value: everything but undefined. */
export type JsonValue = z.infer<typeof JsonValueSchema>

/** A libp2p peer id in its string form (base58btc multihash or CIDv1). Parsed fully by the node. */
export const PeerIdStringSchema = z.string().check(z.minLength(1), z.maxLength(MAX_PEER_LENGTH))

/** A multiaddr string, for example /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW… Parsed fully by the node. */
export const MultiaddrStringSchema = z.string().check(z.minLength(1), z.maxLength(1024))

/** A gossipsub topic name. */
export const TopicSchema = z.string().check(z.minLength(1), z.maxLength(MAX_TOPIC_LENGTH))

/** An optional per-command time limit in milliseconds. */
export const TimeoutMsSchema = z.number().check(z.int(), z.gt(0), z.lte(MAX_TIMEOUT_MS))

/** A TCP port; 0 means any free port. */
export const PortSchema = z.number().check(z.int(), z.gte(0), z.lte(65_535))

/**
 * A node name, registered in the DHT with -n/--name: 1 to 64 letters, digits,
 * ".", "_" or "-". Anything that parses as a peer id is taken as a peer id.
 */
export const NameSchema = z.string().check(z.regex(/^[A-Za-z0-9._-]{1,64}$/, 'a name is 1 to 64 letters, digits, ".", "_" or "-"'))

/** Where a command takes a peer: its peer id, or its registered name. */
export const PeerOrNameSchema = z.string().check(z.minLength(1), z.maxLength(MAX_PEER_LENGTH))

/** Key of an application record or provider announcement in the DHT. */
export const RecordKeySchema = z.string().check(z.minLength(1), z.maxLength(256))

/** Longest lifetime of a dht_put record: 48 hours, as long as kad-dht keeps a record it received. */
export const MAX_RECORD_TTL_SECONDS = 48 * 3600

/** Most messages one catch-up (subscribe with history, or history) replays. */
export const MAX_HISTORY_LIMIT = 100_000

/**
 * Which missed messages a catch-up asks peers for: those a peer received at or
 * after `since` (ms since the epoch; default: all it holds), at most the
 * newest `limit` of them.
 */
export const HistoryRangeSchema = z.strictObject({
  since: z.optional(z.number().check(z.int(), z.gte(0))),
  limit: z.optional(z.number().check(z.int(), z.gt(0), z.lte(MAX_HISTORY_LIMIT)))
})
export type HistoryRange = z.infer<typeof HistoryRangeSchema>
