// The snapshot warm-up (src/warm-up.ts) runs two nodes in one process and
// connects them, so that connection code is compiled into the executable's
// startup snapshot. Here it runs outside a snapshot build, as plain code.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import '../src/polyfill.js'
import { connectTwoNodes } from '../src/warm-up.js'

test('the warm-up connects its two nodes: each lists the other as a peer, and both stop cleanly', async () => {
  const { a, b } = await connectTwoNodes(30_000)
  assert.notEqual(a.peerId, b.peerId)
  assert.deepEqual(a.peers, [b.peerId], 'the first node does not list the second as its only peer')
  assert.deepEqual(b.peers, [a.peerId], 'the second node does not list the first as its only peer')
})
