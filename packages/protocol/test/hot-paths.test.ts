import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import type * as z from 'zod/mini'
import { CommandSchema, EventSchema, MAX_PEER_LENGTH, MAX_REQUEST_ID_LENGTH, MAX_TIMEOUT_MS, MAX_TOPIC_LENGTH } from '../src/index.js'
import { hotCommand, hotEvent } from '../src/hot-paths.js'

const PEER_ID = '12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA'

/** Values that break some field or other: wrong types, lengths and numbers at and past each limit. */
const ODD_VALUES: unknown[] = [
  undefined, null, true, false, 0, -0, 1, -1, 1.5, MAX_TIMEOUT_MS, MAX_TIMEOUT_MS + 1, 2 ** 53, -(2 ** 53), 1e308, '', 'x',
  ...[MAX_PEER_LENGTH, MAX_REQUEST_ID_LENGTH, MAX_TOPIC_LENGTH].flatMap((limit) => ['x'.repeat(limit), 'x'.repeat(limit + 1)]),
  [], {}, { nested: [1, 'two', null] }, 'send', 'publish', 'message', 'result'
]

/** The base object, and for each of its fields and one unknown field, the base with that field set to each odd value. */
function variants (base: Record<string, unknown>, extraFields: string[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [base]
  for (const field of [...Object.keys(base), ...extraFields, 'unknownField', '__proto__']) {
    for (const value of ODD_VALUES) {
      const variant = JSON.parse(JSON.stringify(base)) as Record<string, unknown>
      if (value === undefined) delete variant[field]
      else Object.defineProperty(variant, field, { value, enumerable: true, writable: true, configurable: true })
      out.push(variant)
    }
  }
  return out
}

/**
 * Every variant, as it arrives (parsed from its JSON line): where the hot path
 * takes it, the schema takes it too and gives back the same fields. Run on the
 * variants of every shape, the checks must also take each valid base line, so
 * that the fast path is in use at all.
 */
function holdsToSchema (hot: (fields: Record<string, unknown>) => object | undefined, schema: z.ZodMiniType, bases: Array<Record<string, unknown>>, extraFields: string[]): void {
  let taken = 0
  for (const base of bases) {
    assert.ok(hot(JSON.parse(JSON.stringify(base))) !== undefined, `the hot path does not take the valid line ${JSON.stringify(base)}`)
    for (const variant of variants(base, extraFields)) {
      const line = JSON.stringify(variant)
      const fields = JSON.parse(line) as Record<string, unknown>
      const fast = hot(fields)
      if (fast === undefined) continue
      taken++
      const parsed = schema.safeParse(JSON.parse(line))
      assert.ok(parsed.success, `the hot path took a line the schema refuses: ${line}`)
      assert.deepEqual(fast, parsed.data, `the hot path and the schema disagree on ${line}`)
    }
  }
  assert.ok(taken > bases.length, 'the hot path took none of the variants')
}

describe('hot paths', () => {
  test('send and publish commands: taken only where the command schema accepts them as they are', () => {
    holdsToSchema(hotCommand, CommandSchema, [
      { type: 'send', peerId: PEER_ID, data: { text: 'hi' } },
      { type: 'send', id: 7, peerId: 'alice', data: null, timeoutMs: 5_000 },
      { type: 'send', id: 'req-1', peerId: PEER_ID, data: [1, 2] },
      { type: 'publish', topic: 'chat', data: 'hello' },
      { type: 'publish', id: 3, topic: 'chat', data: { n: 1 } }
    ], ['id', 'timeoutMs', 'peerId', 'topic'])
  })

  test('message events and send and publish results: taken only where the event schema accepts them as they are', () => {
    holdsToSchema(hotEvent, EventSchema, [
      { type: 'message', from: PEER_ID, data: { text: 'hi' } },
      { type: 'message', from: PEER_ID, dataBase64: '3q2+7w==' },
      { type: 'message', from: PEER_ID, topic: 'chat', data: null, replayed: true },
      { type: 'result', id: 1, command: 'send', peerId: PEER_ID },
      { type: 'result', command: 'send', peerId: PEER_ID },
      { type: 'result', id: 'a', command: 'publish', topic: 'chat', recipients: 0 }
    ], ['id', 'topic', 'data', 'dataBase64', 'replayed'])
  })

  test('other commands and events are left to the schemas', () => {
    assert.equal(hotCommand({ type: 'subscribe', topic: 'chat' }), undefined)
    assert.equal(hotCommand({ type: 'peers' }), undefined)
    assert.equal(hotEvent({ type: 'result', id: 1, command: 'peers', peers: [] }), undefined)
    assert.equal(hotEvent({ type: 'error', id: 1, code: 'TIMEOUT', message: 'late' }), undefined)
  })
})
