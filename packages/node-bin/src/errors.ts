import { multiaddr } from '@multiformats/multiaddr'
import { ProtocolError } from '@p2p-node/protocol'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Parses a multiaddr field, or throws INVALID_MULTIADDR naming it. */
export function parseMultiaddr (value: string, field: string): Multiaddr {
  try {
    const parsed = multiaddr(value)
    if (parsed.getComponents().length === 0) throw new Error('empty multiaddr')
    return parsed
  } catch {
    throw new ProtocolError('INVALID_MULTIADDR', `field "${field}": ${JSON.stringify(value.slice(0, 120))} is not a multiaddr (expected something like /ip4/127.0.0.1/tcp/4001/p2p/12D3KooW…)`)
  }
}

/** libp2p error names that mean "we know no way to reach this peer". */
const NOT_FOUND = new Set(['NoValidAddressesError', 'NotFoundError', 'NoPeerRoutersError'])

/**
 * Turns whatever a libp2p call threw into a ProtocolError. `failed` is the
 * code for an ordinary failure of the operation (DIAL_FAILED for dials);
 * errors nobody expected become INTERNAL.
 */
export function toProtocolError (err: unknown, failed: 'DIAL_FAILED' | 'INTERNAL', what: string): ProtocolError {
  if (err instanceof ProtocolError) return err
  const error = err instanceof Error ? err : new Error(String(err))
  if (error.name === 'TimeoutError' || error.name === 'AbortError') {
    return new ProtocolError('TIMEOUT', `${what}: timed out; retry, or pass a larger timeoutMs`, { cause: error })
  }
  if (NOT_FOUND.has(error.name)) {
    return new ProtocolError('PEER_NOT_FOUND', `${what}: no address is known for the peer, locally or in the DHT; connect to a peer that knows it first`, { cause: error })
  }
  return new ProtocolError(failed, `${what}: ${error.message}`, { cause: error })
}

/** PEER_NOT_FOUND for a send or ping that found no address for the peer within its time limit. */
export function peerNotFound (what: string, timeoutMs: number): ProtocolError {
  return new ProtocolError('PEER_NOT_FOUND', `${what}: no address found for the peer, locally or in the DHT, within ${timeoutMs} ms; connect to a peer that knows it, or check the peer id`)
}

/** True for the error a listener gets when its port is taken. */
export function isAddressInUse (err: unknown): boolean {
  const seen = new Set<unknown>()
  for (let e = err as any; e != null && !seen.has(e); e = e.cause) {
    seen.add(e)
    if (e.code === 'EADDRINUSE' || String(e.message).includes('EADDRINUSE')) return true
    if (Array.isArray(e.errors) && e.errors.some(isAddressInUse)) return true
  }
  return false
}
