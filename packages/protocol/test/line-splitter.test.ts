import { test } from 'node:test'
import assert from 'node:assert/strict'
import { LineSplitter } from '../src/index.js'
import type { SplitLine } from '../src/index.js'

const KiB = 1024
const MiB = 1024 * KiB
const encoder = new TextEncoder()

function bytes (text: string): Uint8Array {
  return encoder.encode(text)
}

/** Feeds every chunk, then ends the stream; returns everything the splitter yielded. */
function split (chunks: Array<string | Uint8Array>, maxLineBytes = 1 * KiB): SplitLine[] {
  const splitter = new LineSplitter({ maxLineBytes })
  const out: SplitLine[] = []
  for (const chunk of chunks) out.push(...splitter.push(typeof chunk === 'string' ? bytes(chunk) : chunk))
  out.push(...splitter.end())
  return out
}

function lines (...texts: string[]): SplitLine[] {
  return texts.map((text) => ({ kind: 'line', text }))
}

test('carries a line over chunk boundaries', () => {
  assert.deepEqual(split(['{"type":', '"peers"', ',"id":1}\n']), lines('{"type":"peers","id":1}'))
})

test('carries a multi-byte UTF-8 character split across chunks', () => {
  const euro = bytes('€') // e2 82 ac
  const emoji = bytes('🛰') // f0 9f 9b b0
  assert.equal(euro.length, 3)
  assert.equal(emoji.length, 4)
  const chunks = [
    new Uint8Array([...bytes('price: '), ...euro.subarray(0, 2)]),
    new Uint8Array([...euro.subarray(2), ...bytes(' '), ...emoji.subarray(0, 1)]),
    emoji.subarray(1, 3),
    new Uint8Array([...emoji.subarray(3), 0x0a])
  ]
  assert.deepEqual(split(chunks), lines('price: € 🛰'))
})

test('yields several lines from one chunk', () => {
  assert.deepEqual(split(['one\ntwo\nthree\n']), lines('one', 'two', 'three'))
})

test('removes the "\\r" of "\\r\\n", also when "\\r" and "\\n" arrive in different chunks', () => {
  assert.deepEqual(split(['one\r\ntwo\r', '\nthree\r\n']), lines('one', 'two', 'three'))
})

test('yields empty lines as empty text', () => {
  assert.deepEqual(split(['\n\r\n', 'a\n\n']), lines('', '', 'a', ''))
})

test('end() flushes a last line without "\\n", and nothing when the stream ended on one', () => {
  assert.deepEqual(split(['first\nla', 'st']), lines('first', 'last'))
  assert.deepEqual(split(['first\n']), lines('first'))
  assert.deepEqual(split([]), [])
})

test('keeps a line of exactly maxLineBytes and drops one byte more', () => {
  assert.deepEqual(split(['12345678\n'], 8), lines('12345678'))
  assert.deepEqual(split(['1234', '5678\n'], 8), lines('12345678'))
  assert.deepEqual(split(['123456789\n'], 8), [{ kind: 'too_long', bytes: 9 }])
  assert.deepEqual(split(['12345', '6789\n'], 8), [{ kind: 'too_long', bytes: 9 }])
})

test('reports an over-long line once with its byte count, holding no more than maxLineBytes', () => {
  const maxLineBytes = 1 * MiB
  const chunk = new Uint8Array(64 * KiB).fill(0x78) // "x"
  const chunkCount = (5 * MiB) / chunk.length
  const splitter = new LineSplitter({ maxLineBytes })
  const out: SplitLine[] = []
  let mostBuffered = 0

  out.push(...splitter.push(bytes('{"type":"peers","id":1}\n')))
  for (let i = 0; i < chunkCount; i++) {
    out.push(...splitter.push(chunk))
    mostBuffered = Math.max(mostBuffered, splitter.bufferedBytes)
    assert.ok(splitter.bufferedBytes <= maxLineBytes, `buffered ${splitter.bufferedBytes} bytes after chunk ${i}`)
  }
  out.push(...splitter.push(bytes('\n{"type":"peers","id":2}\n')))
  out.push(...splitter.end())

  assert.equal(mostBuffered, maxLineBytes, 'the line was kept until it passed the limit')
  assert.equal(splitter.bufferedBytes, 0)
  assert.deepEqual(out, [
    ...lines('{"type":"peers","id":1}'),
    { kind: 'too_long', bytes: 5 * MiB },
    ...lines('{"type":"peers","id":2}')
  ])
})

test('end() reports an over-long last line without "\\n"', () => {
  assert.deepEqual(split(['12345', '6789'], 8), [{ kind: 'too_long', bytes: 9 }])
})

test('reports invalid UTF-8 and goes on with the next line', () => {
  const chunk = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d, 0x0a, ...bytes('ok\n')])
  assert.deepEqual(split([chunk]), [{ kind: 'invalid_utf8' }, ...lines('ok')])
})

test('reports a multi-byte character cut short by the newline as invalid UTF-8', () => {
  const euro = bytes('€')
  assert.deepEqual(split([euro.subarray(0, 2), new Uint8Array([0x0a])]), [{ kind: 'invalid_utf8' }])
})
