import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { NodeProcess } from './helpers/node-process.js'
import { RECLAIM_CHECK_MS } from '../src/constants.js'

/** How long an idle node may take to give memory back: a few of its 2 s checks. */
const RECLAIM_WAIT_MS = 20_000
/** Bound on the whole burst of sends. */
const BURST_WAIT_MS = 60_000
/** The trickle: a message every 400 ms (a node's check sees about five) for four checks. */
const TRICKLE_GAP_MS = 400
const TRICKLE_CHECKS = 4
/** What a collection's log event tells (its meta). */
interface Collection { heapBeforeBytes: number, heapAfterBytes: number, gcMs: number }
const isReclaim = (e: Record<string, any>): boolean => e.type === 'log' && e.message === 'idle: gave memory back'

interface AfterBurst {
  sender: NodeProcess
  receiver: NodeProcess
  /** The receiver's collections since the burst began. */
  collections: () => Array<Record<string, any>>
  /** Waits for the receiver's first collection since the burst began. */
  nextCollection: (what: string) => Promise<Record<string, any>>
}

/**
 * Two nodes: once the receiver (at debug level) has made its collection after
 * start-up, the sender connects and sends it 3 000 messages of 8 KiB; then
 * `body` runs. Both nodes are killed at the end.
 */
async function afterBurst (body: (nodes: AfterBurst) => Promise<void>): Promise<void> {
  const sender = await NodeProcess.start('sender', { args: ['--host', '127.0.0.1'] })
  const receiver = await NodeProcess.start('receiver', { args: ['--host', '127.0.0.1', '--log-level', 'debug', '--max-messages-per-second', '1000000'] })
  try {
    // The first collection comes once start-up has settled.
    await receiver.waitFor(isReclaim, 'the collection after start-up', RECLAIM_WAIT_MS)
    await sender.ok({ type: 'connect', bootstrapPeers: [receiver.addr] })
    const beforeBurst = new Set(receiver.events)
    const data = 'x'.repeat(8 * 1024)
    const failures = await sender.pipeline(3_000, 64, () => ({ type: 'send', peerId: receiver.peerId, data, timeoutMs: 10_000 }), BURST_WAIT_MS)
    assert.deepEqual(failures.slice(0, 3), [])
    const isNew = (e: Record<string, any>): boolean => isReclaim(e) && !beforeBurst.has(e)
    await body({
      sender,
      receiver,
      collections: () => receiver.events.filter(isNew),
      nextCollection: async (what) => await receiver.waitFor(isNew, what, RECLAIM_WAIT_MS)
    })
  } finally {
    await Promise.all([sender.kill(), receiver.kill()])
  }
}

describe('memory', () => {
  test('a node gives back the heap a burst of messages grew, once it is idle, and only then', async () => {
    await afterBurst(async ({ collections, nextCollection }) => {
      assert.equal(collections().length, 0, 'no collection while the node was busy receiving')
      const after = await nextCollection('a collection once the burst was over')
      const { heapBeforeBytes, heapAfterBytes, gcMs } = after.meta as Collection
      assert.ok(heapAfterBytes < heapBeforeBytes, `the collection shrank the heap: ${JSON.stringify(after.meta)}`)
      assert.ok(Number.isInteger(gcMs) && gcMs >= 0, JSON.stringify(after.meta))
    })
  })

  test('after a burst, a trickle of messages holds the collection off until it stops', async () => {
    await afterBurst(async ({ sender, receiver, collections, nextCollection }) => {
      // One message every TRICKLE_GAP_MS for TRICKLE_CHECKS of the node's checks: it is far under
      // 5 % busy, but never quiet for a whole check. The pause paces the sender; it waits for no event.
      const trickleEnds = Date.now() + TRICKLE_CHECKS * RECLAIM_CHECK_MS
      while (Date.now() < trickleEnds) {
        await sender.ok({ type: 'send', peerId: receiver.peerId, data: 'trickle' })
        await new Promise((resolve) => setTimeout(resolve, TRICKLE_GAP_MS))
      }
      assert.equal(collections().length, 0, 'a collection while messages were still arriving')
      const after = await nextCollection('a collection once the trickle stopped')
      const { heapBeforeBytes, heapAfterBytes } = after.meta as Collection
      assert.ok(heapAfterBytes < heapBeforeBytes, `the collection shrank the heap: ${JSON.stringify(after.meta)}`)
    })
  })
})
