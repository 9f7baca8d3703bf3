import { createHash } from 'node:crypto'
import { startupSnapshot } from 'node:v8'

/**
 * Replaces @libp2p/kad-dht's generated-prefix-list.js in the executable (see
 * scripts/snapshot-patches.mjs). To refresh one bucket of its routing table,
 * kad-dht looks up a random key whose Kademlia id starts with a given 16-bit
 * prefix, and its list holds one such key per prefix as a 65 536-number array
 * literal: about 1 MiB of the startup snapshot (source, array, and the
 * literal's boilerplate) and 2.5 MiB of each node's RSS, measured with
 * /proc/<pid>/smaps. The same keys fit in a 256 KiB typed array, filled while
 * the snapshot is built; a process without the snapshot (`node
 * dist/p2p-node.cjs`) finds each key when it is first asked for.
 *
 * The key for prefix p is the identity-less peer id kad-dht builds from a
 * number n: the multihash bytes 0x12 0x20, n as a big-endian uint32, then 28
 * zero bytes. Its Kademlia id is the SHA-256 of those bytes; n is the smallest
 * number whose id starts with p.
 */
const PREFIXES = 1 << 16
/** n + 1 for each prefix; 0 while not found yet. */
const found = new Uint32Array(PREFIXES)
let remaining = PREFIXES
let candidate = 0
const key = new Uint8Array(34)
key.set([0x12, 0x20])
const view = new DataView(key.buffer)

/** Hashes candidates in order until `done()`; each prefix keeps the first number that hit it. */
function scan (done: () => boolean): void {
  while (!done() && remaining > 0) {
    view.setUint32(2, candidate)
    const prefix = createHash('sha256').update(key).digest().readUInt16BE(0)
    if (found[prefix] === 0) {
      found[prefix] = candidate + 1
      remaining--
    }
    candidate++
  }
}

/** The number n whose key starts with `prefix` (0–65 535), as kad-dht's list gives it. */
export function keyPrefixFor (prefix: number): number {
  scan(() => found[prefix] !== 0)
  return (found[prefix] as number) - 1
}

if (startupSnapshot.isBuildingSnapshot()) scan(() => false)
