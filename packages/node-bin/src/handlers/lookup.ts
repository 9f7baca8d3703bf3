import type { LookupCommand, ResultFields } from '@p2p-node/protocol'
import { DHT_TIMEOUT_MS } from '../constants.js'
import type { NodeContext } from '../context.js'

/** A registered name → its peer id and the addresses known for it (peer store, else DHT peer routing). */
export async function lookup (ctx: NodeContext, cmd: LookupCommand): Promise<ResultFields<'lookup'>> {
  const signal = AbortSignal.timeout(cmd.timeoutMs ?? DHT_TIMEOUT_MS)
  const { peerId } = await ctx.names.resolve(cmd.name, signal)
  let addrs: string[] = []
  if (peerId.equals(ctx.node.peerId)) {
    addrs = ctx.node.getMultiaddrs().map(String)
  } else {
    try {
      addrs = (await ctx.node.peerStore.get(peerId)).addresses.map((a) => a.multiaddr.toString())
    } catch {}
    if (addrs.length === 0) {
      try {
        // Not from the cache: kad-dht's holds entries without addresses (see send).
        addrs = (await ctx.node.peerRouting.findPeer(peerId, { signal, useCache: false })).multiaddrs.map(String)
      } catch {}
    }
  }
  return { name: cmd.name, peerId: peerId.toString(), addrs }
}
