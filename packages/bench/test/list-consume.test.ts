// listConsumePatch (node-bin/scripts/snapshot-patches.mjs), which the
// executable is built with and the benchmark's in-process reference loads: a
// Uint8ArrayList drops the chunks a consume takes whole with one splice
// instead of one shift each. The fixture runs the list p2p-node bundles, once
// as published and once patched.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runPatchFixture } from './helpers/patch-fixture.js'

interface Run { chunks: number, shifts: number, intact: boolean }

const consumes = async (patched: boolean): Promise<Run> => await runPatchFixture('list-consume', patched)

test('with the patches, consuming a list of chunks shifts none, and leaves the same bytes', async () => {
  const [published, patched] = await Promise.all([consumes(false), consumes(true)])
  // The control: as published, each chunk consumed whole is one shift. If it stops doing so, the patch can go.
  assert.ok(published.shifts >= published.chunks / 2, `as published, consuming ${published.chunks} chunks made ${published.shifts} shifts: uint8arraylist no longer shifts per chunk, so listConsumePatch may be unneeded`)
  assert.equal(patched.shifts, 0, `patched, consuming ${patched.chunks} chunks still made ${patched.shifts} shifts`)
  assert.ok(published.intact, 'as published, a consume left other bytes than a plain copy of the list')
  assert.ok(patched.intact, 'patched, a consume left other bytes than a plain copy of the list')
})
