import type { Command, CommandType, ResultFields } from '@p2p-node/protocol'
import type { NodeContext } from '../context.js'
import { ban, unban } from './ban.js'
import { connect } from './connect.js'
import { dhtFindProviders, dhtGet, dhtProvide, dhtPut } from './dht-records.js'
import { history } from './history.js'
import { lookup } from './lookup.js'
import { ping } from './ping.js'
import { discover } from './discover.js'
import { peers } from './peers.js'
import { publish } from './publish.js'
import { send } from './send.js'
import { shutdown } from './shutdown.js'
import { subscribe } from './subscribe.js'
import { unsubscribe } from './unsubscribe.js'

/** `line` is the command as read from stdin, for a handler that passes JSON on as it was written. */
export type Handler<T extends CommandType> = (ctx: NodeContext, cmd: Extract<Command, { type: T }>, line: string) => Promise<ResultFields<T>>

/** One handler per command; the compiler checks that none is missing. */
export const handlers: { [T in CommandType]: Handler<T> } = {
  connect,
  send,
  subscribe,
  unsubscribe,
  publish,
  history,
  discover,
  peers,
  ping,
  lookup,
  dht_put: dhtPut,
  dht_get: dhtGet,
  dht_provide: dhtProvide,
  dht_find_providers: dhtFindProviders,
  ban,
  unban,
  shutdown
}
