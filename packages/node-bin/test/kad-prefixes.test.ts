// The executable replaces kad-dht's list of routing-table refresh keys with
// src/kad-prefixes.ts (scripts/snapshot-patches.mjs): it must give the same key
// for every prefix.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { keyPrefixFor } from '../src/kad-prefixes.js'

test('keyPrefixFor gives, for each of the 65 536 prefixes, the key of kad-dht\'s own list', async () => {
  // Not exported by the package: found next to its entry point, dist/src/index.js.
  const listUrl = new URL('routing-table/generated-prefix-list.js', import.meta.resolve('@libp2p/kad-dht'))
  const { default: list } = await import(listUrl.href) as { default: number[] }
  assert.equal(list.length, 65_536)
  // Asked out of order first, as a refresh asks: each answer must not depend on what was asked before.
  for (const prefix of [65_535, 0, 12_345, 40_000]) assert.equal(keyPrefixFor(prefix), list[prefix], `prefix ${prefix}`)
  const mismatches = list.map((key, prefix) => [prefix, key, keyPrefixFor(prefix)]).filter(([, key, ours]) => key !== ours)
  assert.deepEqual(mismatches.slice(0, 5), [], `${mismatches.length} prefixes differ ([prefix, kad-dht, ours])`)
})
