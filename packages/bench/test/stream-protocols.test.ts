// streamProtocolPatch (node-bin/scripts/snapshot-patches.mjs), which the
// executable is built with and the benchmark's in-process reference loads:
// a connection records the protocol of its streams in the peer store once,
// with the first stream, not once per stream at each end. The fixture runs
// p2p-node's libp2p stack in a process of its own (the hosts' Node 22), once
// as published and once patched.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { runPatchFixture } from './helpers/patch-fixture.js'

interface Run { streams: number, dialler: number, listener: number }

const merges = async (patched: boolean): Promise<Run> => await runPatchFixture('stream-protocols', patched)

test('with the patches, ten streams of one protocol on one connection record it in the peer store once at each end', async () => {
  const [published, patched] = await Promise.all([merges(false), merges(true)])
  // The control: libp2p as published merges per stream. If it stops doing so, the patch can go.
  assert.ok(published.dialler >= published.streams && published.listener >= published.streams, `libp2p as published recorded the protocol of ${published.streams} streams ${published.dialler} times (dialler) and ${published.listener} times (listener): it no longer does so per stream, so streamProtocolPatch may be unneeded`)
  assert.deepEqual([patched.dialler, patched.listener], [1, 1], `patched, ${patched.streams} streams recorded their protocol ${patched.dialler} times at the dialler and ${patched.listener} at the listener`)
})
