import type { PeerId } from '@libp2p/interface'
import { raceSignal } from 'race-signal'
import type { Libp2pNode } from './libp2p.js'
import type { Logger } from './output.js'
import { topicKey } from './topics.js'

/** One lookup of a topic's DHT providers: what it has found so far, and when it ends. */
interface Lookup {
  at: number
  providers: PeerId[]
  done: Promise<void>
}

/**
 * The DHT provider lookups of `discover`, at most one per topic every
 * `windowMs`. A lookup asks the DHT peers near the topic's key, and dials
 * those it is not connected to: with kad-dht's defaults (10 disjoint paths,
 * each after its 20 closest peers), in a network of a few dozen nodes that can
 * be every node. A node that polls discover did that at every call that knew
 * fewer than 20 peers: in a traced run of 50 nodes polling on one saturated
 * machine, 133 of 890 calls.
 *
 * A lookup runs for up to `windowMs`, whatever the deadline of the discover
 * that started it, as a topic peers question does: cut short, it would lose
 * its work, and the next discover would start it again. The discovers of the
 * topic until `windowMs` after its start take the providers it found (so far,
 * while it runs); peers that subscribe meanwhile are found by the topic peers
 * exchange, which every discover asks. A lookup that ended without finding any
 * provider (no DHT peer yet, say) serves no other discover.
 */
export class ProviderLookups {
  private readonly lookups = new Map<string, Lookup>()

  constructor (private readonly node: Libp2pNode, private readonly log: Logger, private readonly windowMs: number) {}

  /**
   * The topic's providers (this node left out), from the lookup of the last
   * `windowMs` or from a new one; resolves, at the latest when `signal`
   * aborts, with those found by then.
   */
  async providers (topic: string, signal: AbortSignal): Promise<PeerId[]> {
    const now = performance.now()
    for (const [key, old] of this.lookups) if (now - old.at >= this.windowMs) this.lookups.delete(key)
    let lookup = this.lookups.get(topic)
    if (lookup === undefined) {
      lookup = { at: now, providers: [], done: Promise.resolve() }
      this.lookups.set(topic, lookup)
      lookup.done = this.run(topic, lookup)
    } else {
      this.log.debug('reused a recent DHT provider lookup', { topic, ageMs: Math.round(now - lookup.at), providers: lookup.providers.length })
    }
    await raceSignal(lookup.done, signal).catch(() => {})
    return [...lookup.providers]
  }

  private async run (topic: string, lookup: Lookup): Promise<void> {
    try {
      for await (const provider of this.node.contentRouting.findProviders(await topicKey(topic), { signal: AbortSignal.timeout(this.windowMs) })) {
        if (provider.id.equals(this.node.peerId) || lookup.providers.some((known) => known.equals(provider.id))) continue
        if (provider.multiaddrs.length > 0) await this.node.peerStore.merge(provider.id, { multiaddrs: provider.multiaddrs })
        lookup.providers.push(provider.id)
      }
    } catch (err) {
      // A lookup cut short keeps what it found so far.
      this.log.debug('DHT provider lookup ended early', { topic, reason: (err as Error).message })
    }
    if (lookup.providers.length === 0 && this.lookups.get(topic) === lookup) this.lookups.delete(topic)
  }
}
