// lengthPrefixEmptyPatch (node-bin/scripts/snapshot-patches.mjs), which the
// executable is built with and the benchmark's in-process reference loads:
// libp2p's length-prefixed decoder stops at an empty buffer instead of asking
// its length decoder, which throws a RangeError there, at the end of nearly
// every read of a Noise connection. The fixture runs the decoder and Noise's
// length decoder as p2p-node bundles them, once as published and once patched.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runPatchFixture } from './helpers/patch-fixture.js'

interface Way { thrown: number, intact: boolean }
interface Run { records: number, whole: Way, split: Way }

const decodes = async (patched: boolean): Promise<Run> => await runPatchFixture('length-prefix', patched)

test('with the patches, Noise records read whole make no RangeError, and records cut anywhere still decode as sent', async () => {
  const [published, patched] = await Promise.all([decodes(false), decodes(true)])
  // The control: as published, each read that ends on a whole record throws once. If it stops doing so, the patch can go.
  assert.ok(published.whole.thrown >= published.records, `as published, ${published.records} reads of a whole record each made ${published.whole.thrown} RangeErrors in all: the decoder no longer throws at each read's end, so lengthPrefixEmptyPatch may be unneeded`)
  assert.equal(patched.whole.thrown, 0, `patched, ${patched.records} reads of a whole record each still made ${patched.whole.thrown} RangeErrors`)
  for (const [name, run] of [['as published', published], ['patched', patched]] as const) {
    assert.ok(run.whole.intact, `${name}, the records read whole did not come out as sent`)
    assert.ok(run.split.intact, `${name}, the records cut into reads of 1 to 7 bytes did not come out as sent`)
  }
  // Reads that end inside a length prefix still ask, and still throw: the patch skips only the empty buffer.
  assert.ok(patched.split.thrown > 0 && patched.split.thrown < published.split.thrown, `cut into small reads, the decoder threw ${patched.split.thrown} RangeErrors patched and ${published.split.thrown} as published`)
})
