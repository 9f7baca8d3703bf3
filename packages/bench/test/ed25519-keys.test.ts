// ed25519KeyObjectPatch (node-bin/scripts/snapshot-patches.mjs), which the
// executable is built with and the benchmark's in-process reference loads:
// @libp2p/crypto keeps the KeyObject of each Ed25519 key it signs or
// verifies with, instead of making one per call, and signatures stay what
// they were. The fixture runs in a process of its own (the hosts' Node 22),
// once as published and once patched.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runPatchFixture } from './helpers/patch-fixture.js'

interface Run {
  rounds: number
  /** KeyObjects made while Alice signed `rounds` times, Bob once, and Alice's key verified `rounds` times. */
  signed: { private: number, public: number }
  checks: Record<string, boolean>
  /** KeyObjects made to verify with Alice's key again after 1 100 other keys. */
  aliceAgain: number
  /** … and with the newest of those keys. */
  newestAgain: number
}

const run = async (patched: boolean): Promise<Run> => await runPatchFixture('ed25519-keys', patched)

test('with the patches, an Ed25519 key becomes a KeyObject once, not per signature, and signatures check as before', async () => {
  const [published, patched] = await Promise.all([run(false), run(true)])
  for (const [name, result] of [['published', published], ['patched', patched]] as const) {
    assert.deepEqual(result.checks, { sameSignatures: true, verified: true, tamperedRejected: true, otherKeyRejected: true, otherKeyVerifies: true }, `${name}: signatures do not check as they should`)
  }
  // The control: as published, every signature and check makes its KeyObject. If that stops, the patch can go.
  assert.deepEqual(published.signed, { private: published.rounds + 1, public: published.rounds }, 'as published, @libp2p/crypto no longer makes a KeyObject per call: ed25519KeyObjectPatch may be unneeded')
  assert.deepEqual(patched.signed, { private: 2, public: 1 }, `patched, ${patched.rounds} signatures by Alice, one by Bob and ${patched.rounds} checks with Alice's key made ${JSON.stringify(patched.signed)} KeyObjects`)
  assert.equal(patched.newestAgain, 0, 'a key used a moment ago is kept')
  assert.equal(patched.aliceAgain, 1, 'a key not used in the last 1 100 others is made again: the number of keys kept is bounded')
})
