import { test } from 'node:test'
import assert from 'node:assert/strict'
import { fastMessageId } from '../src/gossip-ids.js'

const bytes = (...values: number[]): Uint8Array => Uint8Array.from(values)

test('fastMessageId: equal for copies of a message, different for another publisher or sequence number', () => {
  const message = { from: bytes(0, 36, 8, 1, 18, 32, 7), seqno: bytes(0, 0, 0, 0, 0, 0, 0, 1), data: bytes(1), topic: 't' }
  // A copy as another peer forwards it: new buffers, at an offset inside a larger one.
  const framed = bytes(9, 9, 0, 36, 8, 1, 18, 32, 7, 0, 0, 0, 0, 0, 0, 0, 1)
  const copy = { from: framed.subarray(2, 9), seqno: framed.subarray(9), data: bytes(1), topic: 't' }
  assert.equal(fastMessageId(copy), fastMessageId(message))
  assert.notEqual(fastMessageId({ ...message, seqno: bytes(0, 0, 0, 0, 0, 0, 0, 2) }), fastMessageId(message))
  assert.notEqual(fastMessageId({ ...message, from: bytes(0, 36, 8, 1, 18, 32, 8) }), fastMessageId(message))
  // The boundary between the two parts is kept: moving a byte across it gives another id.
  assert.notEqual(fastMessageId({ from: bytes(1, 2), seqno: bytes(3) }), fastMessageId({ from: bytes(1), seqno: bytes(2, 3) }))
  assert.equal(typeof fastMessageId({}), 'string')
})
