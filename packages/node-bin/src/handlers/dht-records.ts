import { ProtocolError } from '@p2p-node/protocol'
import type { DhtFindProvidersCommand, DhtGetCommand, DhtProvideCommand, DhtPutCommand, Provider, ResultFields } from '@p2p-node/protocol'
import { DEFAULT_RECORD_TTL_SECONDS, DHT_TIMEOUT_MS, PROVIDE_KEY_PREFIX } from '../constants.js'
import { providerKey } from '../dht.js'
import { toProtocolError } from '../errors.js'
import { RECORD_NAMESPACE, dhtKey, readRecord, signRecord } from '../records.js'
import type { NodeContext } from '../context.js'

/** Stores a signed record; readers drop it after ttlSeconds. The newest record under a key wins. */
export async function dhtPut (ctx: NodeContext, cmd: DhtPutCommand): Promise<ResultFields<'dht_put'>> {
  const ttlMs = (cmd.ttlSeconds ?? DEFAULT_RECORD_TTL_SECONDS) * 1000
  const { bytes, expiresAt } = await signRecord(RECORD_NAMESPACE, ctx.privateKey, ctx.node.peerId.toString(), cmd.key, cmd.value, ttlMs)
  try {
    await ctx.node.contentRouting.put(dhtKey(RECORD_NAMESPACE, cmd.key), bytes, { signal: AbortSignal.timeout(cmd.timeoutMs ?? DHT_TIMEOUT_MS) })
  } catch (err) {
    throw toProtocolError(err, 'INTERNAL', `dht_put ${cmd.key}`)
  }
  return { key: cmd.key, expiresAt }
}

/** Reads the newest valid, unexpired record under a key; NOT_FOUND when there is none. */
export async function dhtGet (ctx: NodeContext, cmd: DhtGetCommand): Promise<ResultFields<'dht_get'>> {
  const key = dhtKey(RECORD_NAMESPACE, cmd.key)
  let bytes: Uint8Array
  try {
    bytes = await ctx.node.contentRouting.get(key, { signal: AbortSignal.timeout(cmd.timeoutMs ?? DHT_TIMEOUT_MS) })
  } catch (err) {
    const error = toProtocolError(err, 'INTERNAL', `dht_get ${cmd.key}`)
    if (error.code === 'TIMEOUT') throw error
    throw new ProtocolError('NOT_FOUND', `no valid record under the key ${JSON.stringify(cmd.key)} (never written, or expired)`, { cause: err })
  }
  const record = await readRecord(RECORD_NAMESPACE, key, bytes)
  return { key: cmd.key, value: record.value as ResultFields<'dht_get'>['value'], publisher: record.publisher, expiresAt: record.expiresAt }
}

/** Announces this node as a provider of the key; kad-dht re-announces it before the record expires. */
export async function dhtProvide (ctx: NodeContext, cmd: DhtProvideCommand): Promise<ResultFields<'dht_provide'>> {
  try {
    await ctx.node.contentRouting.provide(await providerKey(PROVIDE_KEY_PREFIX, cmd.key), { signal: AbortSignal.timeout(cmd.timeoutMs ?? DHT_TIMEOUT_MS) })
  } catch (err) {
    throw toProtocolError(err, 'INTERNAL', `dht_provide ${cmd.key}`)
  }
  return { key: cmd.key }
}

/** Every provider of the key other than this node, with its addresses. A lookup cut short by its time limit returns what it found. */
export async function dhtFindProviders (ctx: NodeContext, cmd: DhtFindProvidersCommand): Promise<ResultFields<'dht_find_providers'>> {
  const providers = new Map<string, Provider>()
  try {
    for await (const provider of ctx.node.contentRouting.findProviders(await providerKey(PROVIDE_KEY_PREFIX, cmd.key), { signal: AbortSignal.timeout(cmd.timeoutMs ?? DHT_TIMEOUT_MS) })) {
      if (provider.id.equals(ctx.node.peerId)) continue
      const known = providers.get(provider.id.toString())
      const addrs = new Set([...known?.addrs ?? [], ...provider.multiaddrs.map(String)])
      providers.set(provider.id.toString(), { peerId: provider.id.toString(), addrs: [...addrs] })
    }
  } catch (err) {
    ctx.log.debug('provider lookup ended early', { key: cmd.key, reason: (err as Error).message })
  }
  return { key: cmd.key, providers: [...providers.values()] }
}
