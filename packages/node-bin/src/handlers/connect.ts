import { ProtocolError } from '@p2p-node/protocol'
import type { ConnectCommand, DialFailure, ResultFields } from '@p2p-node/protocol'
import { DIAL_TIMEOUT_MS } from '../constants.js'
import { parseMultiaddr, toProtocolError } from '../errors.js'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { NodeContext } from '../context.js'

/** Dials every bootstrap peer in parallel. DIAL_FAILED only when all of them fail. */
export async function connect (ctx: NodeContext, cmd: ConnectCommand): Promise<ResultFields<'connect'>> {
  const listening = listeningPorts(ctx)
  if (cmd.port !== undefined && cmd.port !== 0 && !listening.includes(cmd.port)) {
    throw new ProtocolError('INVALID_COMMAND', `field "port": the node already listens on port ${listening.join(', ')} (chosen at launch with -p/--port); omit port or pass that one`)
  }
  const addrs = (cmd.bootstrapPeers ?? []).map((addr, i) => parseMultiaddr(addr, `bootstrapPeers.${i}`))
  const { connected, failed } = await dialAll(ctx, addrs, cmd.timeoutMs ?? DIAL_TIMEOUT_MS)
  if (addrs.length > 0 && connected.length === 0) {
    const allTimedOut = failed.every((failure) => failure.code === 'TIMEOUT')
    throw new ProtocolError(allTimedOut ? 'TIMEOUT' : 'DIAL_FAILED', `could not reach any bootstrap peer: ${failed.map((f) => `${f.addr}: ${f.message}`).join('; ')}`)
  }
  return {
    peerId: ctx.node.peerId.toString(),
    addrs: ctx.node.getMultiaddrs().map(String),
    connected,
    failed
  }
}

/** Dials each address; reports who answered and why the others did not. */
async function dialAll (ctx: NodeContext, addrs: Multiaddr[], timeoutMs: number): Promise<{ connected: string[], failed: DialFailure[] }> {
  const outcomes = await Promise.all(addrs.map(async (addr) => {
    try {
      const connection = await ctx.node.dial(addr, { signal: AbortSignal.timeout(timeoutMs) })
      return { peerId: connection.remotePeer.toString() }
    } catch (err) {
      const error = toProtocolError(err, 'DIAL_FAILED', `dial ${addr.toString()}`)
      return { failure: { addr: addr.toString(), code: error.code, message: error.message } }
    }
  }))
  const connected = [...new Set(outcomes.flatMap((o) => o.peerId === undefined ? [] : [o.peerId]))]
  const failed = outcomes.flatMap((o) => o.failure === undefined ? [] : [o.failure])
  return { connected, failed }
}

function listeningPorts (ctx: NodeContext): number[] {
  const ports = ctx.node.getMultiaddrs().flatMap((ma) => {
    const tcp = ma.getComponents().find((c) => c.name === 'tcp')
    return tcp?.value === undefined ? [] : [Number(tcp.value)]
  })
  return [...new Set(ports)]
}
