import { raceSignal } from 'race-signal'
import type { Ping } from '@libp2p/ping'

/**
 * Makes the ping service ping each peer one call at a time. The ping spec
 * allows a dialer one outbound ping stream per peer, and libp2p refuses a
 * second ("Too many outbound protocol streams"). The service has more than
 * one caller: the `ping` command, and kad-dht, which pings a contact it has
 * no direct connection to before it joins the routing table, and old contacts
 * when a full bucket is offered a new one (dht.ts). Two `ping` commands at
 * once, or one just after a connection opened, failed with DIAL_FAILED. Now
 * each call waits for the one before it to the same peer (or until its own
 * signal aborts).
 *
 * The round trips that `peers` reports come from yamux pings
 * (connection-pings.ts), not from this service.
 */
export function onePingPerPeer (service: Ping): void {
  const ping = service.ping.bind(service)
  /** Per peer, the last call queued; it settles when that call has. */
  const tails = new Map<string, Promise<unknown>>()
  service.ping = async (peer, options = {}) => {
    const key = Array.isArray(peer) ? peer.map(String).join(' ') : peer.toString()
    const before = tails.get(key)
    const turn = (async () => {
      if (before !== undefined) await raceSignal(before, options.signal)
      return await ping(peer, options)
    })()
    // A call that gave up waiting still leaves the one before it to finish first.
    const tail = Promise.allSettled([before, turn])
    tails.set(key, tail)
    void tail.then(() => { if (tails.get(key) === tail) tails.delete(key) })
    return await turn
  }
}
