import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { EventSchema } from '@p2p-node/protocol'
import { encodeMessage } from '../src/payload.js'

const from = '12D3KooWEyoppNCUx8Yx66oV9fz3YwPYmhLsTNtAhXNw6qXaZTtX'
const bytes = (text: string): Uint8Array => new TextEncoder().encode(text)

/** The line as text, checked to be one line holding one valid message event. */
function lineOf (encoded: string | Buffer): string {
  const text = encoded.toString()
  assert.ok(text.endsWith('\n'), 'a line ends with "\\n"')
  assert.equal(text.indexOf('\n'), text.length - 1, `one line only: ${JSON.stringify(text.slice(0, 80))}`)
  assert.ok(EventSchema.safeParse(JSON.parse(text)).success, `a valid event: ${text.slice(0, 80)}`)
  return text
}

describe('encodeMessage', () => {
  test('JSON goes into the line as the sender wrote it, after the other fields', () => {
    // Printed again, the integer would lose digits (12345678901234567000).
    const payload = '{"n":12345678901234567890, "s":"a \\" b","u":"\\u00e9"}'
    const line = lineOf(encodeMessage({ type: 'message', from, topic: 't', replayed: true }, bytes(payload)))
    assert.equal(line, `{"type":"message","from":"${from}","topic":"t","replayed":true,"data":${payload}}\n`)
  })

  test('JSON with a line break between its tokens is printed again on one line', () => {
    const line = lineOf(encodeMessage({ type: 'message', from }, bytes('{"a":\r\n[1,\n2]}')))
    assert.deepEqual(JSON.parse(line).data, { a: [1, 2] })
  })

  test('a leading byte order mark is dropped, as before', () => {
    const line = lineOf(encodeMessage({ type: 'message', from }, bytes('\uFEFF{"a":1}')))
    assert.deepEqual(JSON.parse(line).data, { a: 1 })
    assert.ok(!line.includes('\uFEFF'))
  })

  test('bytes that are not UTF-8, or not JSON, arrive as dataBase64', () => {
    for (const payload of [new Uint8Array([0xff, 0xfe, 0x7b]), bytes('hello'), bytes('{"a":1} trailing'), new Uint8Array(0)]) {
      const event = JSON.parse(lineOf(encodeMessage({ type: 'message', from }, payload)))
      assert.equal(event.data, undefined)
      assert.deepEqual(Buffer.from(event.dataBase64, 'base64'), Buffer.from(payload))
    }
  })

  test('deep nesting is printed again up to what JSON.stringify can print, and beyond it arrives as dataBase64', () => {
    const nested = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth)
    const printable = JSON.parse(lineOf(encodeMessage({ type: 'message', from }, bytes(nested(2_000)))))
    assert.equal(JSON.stringify(printable.data), nested(2_000), 'printed again as data')
    const tooDeep = JSON.parse(lineOf(encodeMessage({ type: 'message', from }, bytes(nested(50_000)))))
    assert.ok(Buffer.from(tooDeep.dataBase64 ?? '', 'base64').toString() === nested(50_000), 'too deep to print: dataBase64')
  })

  test('a number beyond the range of a double is printed again, as null, where strict parsers would refuse it', () => {
    for (const [payload, data] of [['1e400', null], ['[1, -1E999]', [1, null]], ['{"a":{"b":2e308},"c":"1e400"}', { a: { b: null }, c: '1e400' }]] as const) {
      const line = lineOf(encodeMessage({ type: 'message', from }, bytes(payload)))
      assert.deepEqual(JSON.parse(line).data, data, line)
      assert.ok(!/e(308|400|999)/i.test(line.replace('"1e400"', '')), `the number as written is not in the line: ${line}`)
    }
  })

  test('a long payload with many brackets inside strings is still delivered as data', () => {
    const payload = JSON.stringify({ s: '['.repeat(3_000) })
    assert.deepEqual(JSON.parse(lineOf(encodeMessage({ type: 'message', from }, bytes(payload)))).data, { s: '['.repeat(3_000) })
  })
})
