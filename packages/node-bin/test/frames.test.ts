import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import * as varint from 'uint8-varint'
import { FrameDecoder, FrameTooLargeError } from '../src/frames.js'

const frame = (body: number[]): number[] => [...varint.encode(body.length), ...body]
const decodeAll = (decoder: FrameDecoder, chunk: number[]): number[][] => [...decoder.decode(Uint8Array.from(chunk))].map((f) => [...f.subarray()])

describe('FrameDecoder', () => {
  test('several frames in one chunk, and a frame split across chunks at every byte', () => {
    const big = Array.from({ length: 300 }, (_, i) => i % 256) // a two-byte length prefix
    const stream = [...frame([1, 2, 3]), ...frame([]), ...frame(big), ...frame([9])]
    assert.deepEqual(decodeAll(new FrameDecoder(1000), stream), [[1, 2, 3], [], big, [9]])
    for (let cut = 0; cut <= stream.length; cut++) {
      const decoder = new FrameDecoder(1000)
      const frames = [...decodeAll(decoder, stream.slice(0, cut)), ...decodeAll(decoder, stream.slice(cut))]
      assert.deepEqual(frames, [[1, 2, 3], [], big, [9]], `cut at ${cut}`)
    }
  })

  test('a length over the limit is refused from the prefix alone', () => {
    const decoder = new FrameDecoder(10)
    assert.deepEqual(decodeAll(decoder, frame(Array(10).fill(7))), [Array(10).fill(7)])
    assert.throws(() => decodeAll(decoder, [...varint.encode(100_000_000)]), FrameTooLargeError)
    assert.throws(() => decodeAll(new FrameDecoder(10), [0x80, 0x80, 0x80, 0x80, 0x80]), FrameTooLargeError)
  })
})
