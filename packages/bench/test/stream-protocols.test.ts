// streamProtocolPatch (node-bin/scripts/snapshot-patches.mjs), which the
// executable is built with and the benchmark's in-process reference loads:
// a connection records the protocol of its streams in the peer store once,
// with the first stream, not once per stream at each end. The fixture runs
// p2p-node's libp2p stack in a process of its own (the hosts' Node 22), once
// as published and once patched.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { NODE22, REPO } from '../src/host.js'

const here = import.meta.dirname

interface Run { streams: number, dialler: number, listener: number }

async function merges (patched: boolean): Promise<Run> {
  const patches = patched ? ['--import', join(here, '..', 'src', 'hosts', 'stack-patches.mjs')] : []
  const { stdout } = await promisify(execFile)(NODE22, ['--import', 'tsx', ...patches, join(here, 'fixtures', 'stream-protocols.ts')], { cwd: REPO, timeout: 60_000 })
  return JSON.parse(stdout.trim().split('\n').at(-1) as string)
}

test('with the patches, ten streams of one protocol on one connection record it in the peer store once at each end', async () => {
  const [published, patched] = await Promise.all([merges(false), merges(true)])
  // The control: libp2p as published merges per stream. If it stops doing so, the patch can go.
  assert.ok(published.dialler >= published.streams && published.listener >= published.streams, `libp2p as published recorded the protocol of ${published.streams} streams ${published.dialler} times (dialler) and ${published.listener} times (listener): it no longer does so per stream, so streamProtocolPatch may be unneeded`)
  assert.deepEqual([patched.dialler, patched.listener], [1, 1], `patched, ${patched.streams} streams recorded their protocol ${patched.dialler} times at the dialler and ${patched.listener} at the listener`)
})
