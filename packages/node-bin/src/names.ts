import { peerIdFromString } from '@libp2p/peer-id'
import { NameSchema, ProtocolError } from '@p2p-node/protocol'
import type { PeerId, PrivateKey } from '@libp2p/interface'
import { NAME_REPUBLISH_MS, NAME_TTL_MS } from './constants.js'
import { dhtPeerAdded, routingTable } from './dht.js'
import { toProtocolError } from './errors.js'
import { NAME_NAMESPACE, dhtKey, readRecord, signRecord } from './records.js'
import type { Libp2pNode } from './libp2p.js'
import type { Logger } from './output.js'
import type { Deadline } from './deadline.js'

/** How long a resolved name is trusted without asking the DHT again, ms. */
const NAME_CACHE_MS = 30_000
/** Peer ids kept parsed, by their string. */
const PARSED_PEER_IDS = 1_024

export interface ResolvedName {
  peerId: PeerId
  expiresAt: number
}

/**
 * Names in the DHT: registers this node's name (a signed record, republished
 * before it expires) and resolves the names of others.
 *
 * Two keys claiming one name: a node does not overwrite a valid, unexpired
 * record of another publisher; it keeps checking and takes the name once that
 * record has expired. So among nodes running p2p-node the first claim holds
 * while its owner keeps it alive. The DHT itself keeps the newest valid
 * record, so a client that writes records by other means can take a name:
 * names are a convenience, not an authentication; use peer ids where identity
 * matters.
 */
export class Names {
  private readonly cache = new Map<string, ResolvedName>()
  private readonly parsedPeerIds = new Map<string, PeerId>()
  private timer: NodeJS.Timeout | undefined
  private registering: Promise<void> | undefined
  /** Whether this node's own name record is in the DHT. */
  private registered = false
  private onPeerAdded: (() => void) | undefined

  constructor (private readonly node: Libp2pNode, private readonly privateKey: PrivateKey, private readonly log: Logger, private readonly timeoutMs: number) {}

  /** Registers `name` now (or as soon as the DHT has a peer) and every NAME_REPUBLISH_MS after. */
  register (name: string): void {
    const attempt = (): void => { this.registering ??= this.publish(name).finally(() => { this.registering = undefined }) }
    this.onPeerAdded = () => { if (!this.registered) attempt() }
    routingTable(this.node).addEventListener('peer:add', this.onPeerAdded)
    this.timer = setInterval(attempt, NAME_REPUBLISH_MS)
    this.timer.unref()
    attempt()
  }

  stop (): void {
    clearInterval(this.timer)
    if (this.onPeerAdded !== undefined) routingTable(this.node).removeEventListener('peer:add', this.onPeerAdded)
  }

  private async publish (name: string): Promise<void> {
    if (!(await dhtPeerAdded(routingTable(this.node), this.timeoutMs))) return
    const self = this.node.peerId.toString()
    try {
      const current = await this.fetch(name, AbortSignal.timeout(this.timeoutMs))
      if (current.peerId.toString() !== self) {
        this.registered = false
        this.log.warn(`the name "${name}" is held by another node until its record expires; this node will take it then`, { name, holder: current.peerId.toString(), expiresAt: current.expiresAt })
        return
      }
    } catch (err) {
      if (!(err instanceof ProtocolError && err.code === 'NOT_FOUND')) {
        this.log.info('could not check the name in the DHT; will retry', { name, reason: (err as Error).message })
        return
      }
    }
    try {
      const { bytes } = await signRecord(NAME_NAMESPACE, this.privateKey, self, name, { peerId: self }, NAME_TTL_MS)
      await this.node.contentRouting.put(dhtKey(NAME_NAMESPACE, name), bytes, { signal: AbortSignal.timeout(this.timeoutMs) })
      this.registered = true
      this.log.info('registered the name in the DHT', { name })
    } catch (err) {
      this.log.info('could not register the name in the DHT; will retry', { name, reason: (err as Error).message })
    }
  }

  /** Resolves a name to the peer that holds it; NOT_FOUND when no valid record exists. */
  async resolve (name: string, signal: AbortSignal): Promise<ResolvedName> {
    const cached = this.cache.get(name)
    if (cached !== undefined && cached.expiresAt > Date.now()) return cached
    const resolved = await this.fetch(name, signal)
    this.cache.set(name, { peerId: resolved.peerId, expiresAt: Math.min(resolved.expiresAt, Date.now() + NAME_CACHE_MS) })
    return resolved
  }

  private async fetch (name: string, signal: AbortSignal): Promise<ResolvedName> {
    const key = dhtKey(NAME_NAMESPACE, name)
    let bytes: Uint8Array
    try {
      bytes = await this.node.contentRouting.get(key, { signal })
    } catch (err) {
      const error = toProtocolError(err, 'INTERNAL', `lookup ${name}`)
      if (error.code === 'TIMEOUT') throw error
      throw new ProtocolError('NOT_FOUND', `no node has registered the name "${name}" (or its record expired); check the spelling, or wait for the node to join`, { cause: err })
    }
    const record = await readRecord(NAME_NAMESPACE, key, bytes)
    return { peerId: peerIdFromString(record.publisher), expiresAt: record.expiresAt }
  }

  /**
   * A command's peer field: a peer id, else a registered name. INVALID_PEER_ID
   * when it is neither a peer id nor a possible name; NOT_FOUND for an unknown name.
   */
  async peerOrName (value: string, deadline: Deadline, field = 'peerId'): Promise<PeerId> {
    const known = this.parsedPeerIds.get(value)
    if (known !== undefined) return known
    try {
      const peerId = peerIdFromString(value)
      // Parsing (base58) and printing a peer id cost more than a small send: keep the recent ones.
      if (this.parsedPeerIds.size >= PARSED_PEER_IDS) this.parsedPeerIds.clear()
      this.parsedPeerIds.set(value, peerId)
      return peerId
    } catch {}
    if (!NameSchema.safeParse(value).success) {
      throw new ProtocolError('INVALID_PEER_ID', `field "${field}": ${JSON.stringify(value.slice(0, 80))} is neither a libp2p peer id (12D3KooW…) nor a name (letters, digits, ".", "_", "-")`)
    }
    return (await this.resolve(value, deadline.signal)).peerId
  }
}
