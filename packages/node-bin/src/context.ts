import type { PrivateKey } from '@libp2p/interface'
import type { Libp2pNode } from './libp2p.js'
import type { Names } from './names.js'
import type { BanList } from './bans.js'
import type { DirectMessaging } from './messaging.js'
import type { HistoryService } from './history/service.js'
import type { TopicPeerExchange } from './topic-peers.js'
import type { ProviderLookups } from './provider-lookups.js'
import type { TopicAdvertiser, TopicDirectory } from './topics.js'
import type { NodeConfig } from './config.js'
import type { EventSink, Logger } from './output.js'
import type { Limiter } from './limiter.js'

/** What a command handler may use. Handlers never touch stdin or stdout. */
export interface NodeContext {
  node: Libp2pNode
  /** The node's key, for signing DHT records. */
  privateKey: PrivateKey
  names: Names
  bans: BanList
  messaging: DirectMessaging
  history: HistoryService
  topics: TopicDirectory
  topicPeers: TopicPeerExchange
  providerLookups: ProviderLookups
  advertiser: TopicAdvertiser
  /**
   * Runs publishes a few at a time. Thousands started at once (a parent writing
   * a burst of publish lines) starve the event loop long enough for handshakes
   * and keep-alive pings to time out, and the connections that drop lose the
   * messages on them; queued, they pace the burst instead.
   */
  publishing: Limiter
  config: NodeConfig
  /** Emits events that answer no command (peer_discovered, …). */
  events: EventSink
  log: Logger
  /** Stops libp2p; resolves when it has stopped (or its grace period ran out). */
  stop: () => Promise<void>
}
