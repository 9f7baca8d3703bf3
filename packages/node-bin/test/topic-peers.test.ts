import { test } from 'node:test'
import assert from 'node:assert/strict'
import { oneCoversAll } from '../src/topic-peers.js'

test('an answer covers the others when it lists, with its own peer, every peer they list', () => {
  assert.equal(oneCoversAll(new Map([['hub', ['a', 'b', 'c']], ['a', ['b']], ['b', ['a', 'c']]])), true, 'the hub lists all')
  assert.equal(oneCoversAll(new Map([['a', ['b', 'c']], ['b', ['a', 'c']]])), true, 'each lists the other, which is its own peer to the other')
  assert.equal(oneCoversAll(new Map([['a', ['c']], ['b', ['d']]])), false, 'each lists a peer the other does not')
})

test('a lone answer and an answer of 64 peers cover nothing', () => {
  assert.equal(oneCoversAll(new Map([['a', ['b', 'c']]])), false, 'a lone answer says nothing of what others would list')
  assert.equal(oneCoversAll(new Map()), false)
  const full = Array.from({ length: 64 }, (_, i) => `p${i}`)
  assert.equal(oneCoversAll(new Map([['a', full], ['b', ['p1']]])), false, 'an answer of 64 peers may have been cut short')
  assert.equal(oneCoversAll(new Map([['p0', full.slice(1)], ['b', ['p1']]])), true, 'an answer of 63 is whole')
})
