import type { HistoryCommand, ResultFields } from '@p2p-node/protocol'
import { HISTORY_TIMEOUT_MS } from '../constants.js'
import type { NodeContext } from '../context.js'

/**
 * Catches up on a topic: replays, as message events marked replayed, what its
 * peers hold and this node has not delivered yet; the result follows them.
 */
export async function history (ctx: NodeContext, cmd: HistoryCommand): Promise<ResultFields<'history'>> {
  const catchUp = await ctx.history.catchUp(cmd.topic, { since: cmd.since, limit: cmd.limit }, AbortSignal.timeout(cmd.timeoutMs ?? HISTORY_TIMEOUT_MS))
  return { topic: cmd.topic, ...catchUp }
}
