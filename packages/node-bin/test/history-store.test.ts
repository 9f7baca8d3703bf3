import { test } from 'node:test'
import assert from 'node:assert/strict'
import { HistoryStore } from '../src/history/store.js'
import { messageId } from '../src/history/message.js'
import type { HistoryMessage } from '../src/history/message.js'

const TOPIC = 'news'
const ORIGIN = '12D3KooWGzVVMPqWZJmhJzqdGJxR3SLmXUYHkWsyzEHMVwTtsuSf'
/** How many ids a topic remembers when at most 10 messages are kept (MIN_SEEN_PER_TOPIC). */
const REMEMBERED = 10_000

const message = (seqno: number): HistoryMessage => ({ from: ORIGIN, seqno: BigInt(seqno), topic: TOPIC, data: new Uint8Array([seqno % 256]), signature: new Uint8Array(64), receivedAt: Date.now() })
const seen = (store: HistoryStore, seqno: number): boolean => store.has(TOPIC, messageId(ORIGIN, BigInt(seqno)))
const addAll = (store: HistoryStore, from: number, to: number): void => {
  for (let seqno = from; seqno < to; seqno++) assert.equal(store.add(message(seqno)), true, `message ${seqno} was new`)
}

test('a topic remembers the ids of its latest 10 000 messages, and forgets the oldest first', () => {
  const store = new HistoryStore({ size: 10, ttlMs: 60_000, maxBytes: 1 << 20 })
  addAll(store, 0, REMEMBERED)
  assert.equal(store.add(message(0)), false, 'a message seen before is not new')
  assert.ok(seen(store, 0) && seen(store, REMEMBERED - 1), 'all 10 000 are remembered')
  addAll(store, REMEMBERED, REMEMBERED + 5)
  for (let seqno = 0; seqno < 5; seqno++) assert.equal(seen(store, seqno), false, `message ${seqno}, among the 5 oldest, is forgotten`)
  assert.ok(seen(store, 5), 'the sixth oldest is still remembered')
  assert.equal(store.add(message(0)), true, 'a forgotten message is new again')
  // Twice the limit again, so that what is forgotten is also cleared away.
  addAll(store, REMEMBERED + 5, 3 * REMEMBERED)
  assert.ok(!seen(store, 2 * REMEMBERED - 1) && seen(store, 2 * REMEMBERED), 'the latest 10 000 are remembered, no more')
})

test('a message unseen and seen again counts from its latest sighting', () => {
  const store = new HistoryStore({ size: 10, ttlMs: 60_000, maxBytes: 1 << 20 })
  addAll(store, 0, 100)
  store.unsee(TOPIC, messageId(ORIGIN, 10n))
  assert.equal(seen(store, 10), false, 'unsee forgets it')
  assert.equal(store.add(message(10)), true, 'so it is new once more')
  addAll(store, 100, REMEMBERED + 50)
  assert.ok(!seen(store, 11), 'messages seen before 50 are forgotten')
  assert.ok(seen(store, 10), 'message 10 is remembered from its second sighting')
  addAll(store, REMEMBERED + 50, REMEMBERED + 101)
  assert.equal(seen(store, 10), false, 'and forgotten 10 000 sightings after it')
})

test('messages unseen (dropped on their way to the parent) do not count against the 10 000 remembered', () => {
  const store = new HistoryStore({ size: 10, ttlMs: 60_000, maxBytes: 1 << 20 })
  const DROPPED = 1_000_000
  // One fewer than are remembered, so that even with a dropped one just added the node holds no more.
  const DELIVERED = REMEMBERED - 1
  for (let seqno = 0; seqno < DELIVERED; seqno++) {
    assert.equal(store.add(message(seqno)), true, `message ${seqno} was new`)
    // Two dropped for each delivered: about 20 000 in all, more than are remembered.
    for (const dropped of [DROPPED + 2 * seqno, DROPPED + 2 * seqno + 1]) {
      store.add(message(dropped))
      store.unsee(TOPIC, messageId(ORIGIN, BigInt(dropped)))
    }
  }
  for (let seqno = 0; seqno < DELIVERED; seqno++) assert.ok(seen(store, seqno), `delivered message ${seqno} is remembered`)
  assert.equal(seen(store, DROPPED), false, 'a dropped message is not')
  addAll(store, DELIVERED, DELIVERED + 3)
  assert.ok(!seen(store, 0) && !seen(store, 1) && seen(store, 2), 'three more delivered, 10 002 in all, make the two oldest forgotten')
})
