import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { NodeProcess } from './helpers/node-process.js'

/** How long an idle node may take to give memory back: a few of its 2 s checks. */
const RECLAIM_WAIT_MS = 20_000
/** Bound on the whole burst of sends. */
const BURST_WAIT_MS = 60_000
/** The trickle: a message every 400 ms (a node's 2 s check sees about five) for four checks. */
const TRICKLE_GAP_MS = 400
const TRICKLE_CHECKS = 4
const isReclaim = (e: Record<string, any>): boolean => e.type === 'log' && e.message === 'idle: gave memory back'

describe('memory', () => {
  test('a node gives back the heap a burst of messages grew, once it is idle, and only then', async () => {
    const a = await NodeProcess.start('sender', { args: ['--host', '127.0.0.1'] })
    const b = await NodeProcess.start('receiver', { args: ['--host', '127.0.0.1', '--log-level', 'debug', '--max-messages-per-second', '1000000'] })
    try {
      // The first collection comes once start-up has settled.
      await b.waitFor(isReclaim, 'the collection after start-up', RECLAIM_WAIT_MS)
      await a.ok({ type: 'connect', bootstrapPeers: [b.addr] })

      const beforeBurst = new Set(b.events)
      const data = 'x'.repeat(8 * 1024)
      const failures = await a.pipeline(3_000, 64, () => ({ type: 'send', peerId: b.peerId, data, timeoutMs: 10_000 }), BURST_WAIT_MS)
      assert.deepEqual(failures.slice(0, 3), [])
      assert.equal(b.events.filter((e) => isReclaim(e) && !beforeBurst.has(e)).length, 0, 'no collection while the node was busy receiving')

      const after = await b.waitFor((e) => isReclaim(e) && !beforeBurst.has(e), 'a collection once the burst was over', RECLAIM_WAIT_MS)
      const { heapBeforeBytes, heapAfterBytes, gcMs } = after.meta as Record<string, number>
      assert.ok(heapAfterBytes < heapBeforeBytes, `the collection shrank the heap: ${JSON.stringify(after.meta)}`)
      assert.ok(Number.isInteger(gcMs) && gcMs >= 0, JSON.stringify(after.meta))
    } finally {
      await Promise.all([a.kill(), b.kill()])
    }
  })

  test('after a burst, a trickle of messages holds the collection off until it stops', async () => {
    const a = await NodeProcess.start('sender', { args: ['--host', '127.0.0.1'] })
    const b = await NodeProcess.start('receiver', { args: ['--host', '127.0.0.1', '--log-level', 'debug', '--max-messages-per-second', '1000000'] })
    try {
      await b.waitFor(isReclaim, 'the collection after start-up', RECLAIM_WAIT_MS)
      await a.ok({ type: 'connect', bootstrapPeers: [b.addr] })
      const beforeBurst = new Set(b.events)
      const data = 'x'.repeat(8 * 1024)
      const failures = await a.pipeline(3_000, 64, () => ({ type: 'send', peerId: b.peerId, data, timeoutMs: 10_000 }), BURST_WAIT_MS)
      assert.deepEqual(failures.slice(0, 3), [])

      // One message every TRICKLE_GAP_MS for TRICKLE_CHECKS of the node's 2 s checks: it is far under
      // 5 % busy, but never quiet for a whole check. The pause paces the sender; it waits for no event.
      const trickleEnds = Date.now() + TRICKLE_CHECKS * 2_000
      while (Date.now() < trickleEnds) {
        await a.ok({ type: 'send', peerId: b.peerId, data: 'trickle' })
        await new Promise((resolve) => setTimeout(resolve, TRICKLE_GAP_MS))
      }
      assert.equal(b.events.filter((e) => isReclaim(e) && !beforeBurst.has(e)).length, 0, 'a collection while messages were still arriving')

      const after = await b.waitFor((e) => isReclaim(e) && !beforeBurst.has(e), 'a collection once the trickle stopped', RECLAIM_WAIT_MS)
      assert.ok((after.meta as Record<string, number>).heapAfterBytes < (after.meta as Record<string, number>).heapBeforeBytes, JSON.stringify(after.meta))
    } finally {
      await Promise.all([a.kill(), b.kill()])
    }
  })
})
