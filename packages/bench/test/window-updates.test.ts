// yamuxWindowPatch (node-bin/scripts/snapshot-patches.mjs), which the executable
// is built with and the benchmark's in-process reference loads: a yamux
// receiver sends a window update once half its window is used, not one per
// data frame. The fixture runs p2p-node's libp2p stack in a process of its own
// (the hosts' Node 22), once as published and once patched.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runPatchFixture } from './helpers/patch-fixture.js'

interface Run { frames: number, bytes: number, updates: number }

const windowUpdates = async (patched: boolean): Promise<{ small: Run, large: Run }> => await runPatchFixture('window-updates', patched)

test('with the patches, yamux sends no window update for 20 KB in 200 frames, and a few for 2 MiB, which all arrives', async () => {
  const [published, patched] = await Promise.all([windowUpdates(false), windowUpdates(true)])
  // The control: @libp2p/yamux as published answers each frame. If it stops doing so, the patch can go.
  assert.ok(published.small.updates >= published.small.frames / 2, `@libp2p/yamux as published sent ${published.small.updates} window updates for ${published.small.frames} frames: it no longer updates per frame, so yamuxWindowPatch may be unneeded`)
  assert.equal(patched.small.updates, 0, `patched, the receiver sent ${patched.small.updates} window updates for ${patched.small.bytes} bytes in ${patched.small.frames} frames`)
  // The fixture fails unless all 2 MiB (eight initial windows) arrived, so updates kept the sender going.
  // At most one per half of the initial 256 KiB window (fewer once the window grows).
  const most = Math.ceil(patched.large.bytes / (128 * 1024))
  assert.ok(patched.large.updates >= 1 && patched.large.updates <= most, `patched, ${patched.large.bytes} bytes took ${patched.large.updates} window updates (expected 1 to ${most})`)
})
