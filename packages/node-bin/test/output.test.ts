import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { EventEmitter } from 'node:events'
import { LineWriter } from '../src/output.js'

/** A stdout stand-in: records each write; `full` makes write() ask for 'drain'. */
class RecordingStream extends EventEmitter {
  writes: string[] = []
  full = false
  write (chunk: string | Buffer): boolean {
    this.writes.push(chunk.toString())
    return !this.full
  }
}

const log = (n: number): { type: 'log', level: 'info', namespace: string, message: string } => ({ type: 'log', level: 'info', namespace: 't', message: `m${n}` })
const messages = (writes: string[]): string[] => writes.join('').trim().split('\n').map((line) => (JSON.parse(line) as { message: string }).message)
const nextTurn = async (): Promise<void> => { await new Promise((resolve) => setImmediate(resolve)) }

describe('LineWriter', () => {
  test('the first event of an event-loop turn is written before emit returns', async () => {
    const stream = new RecordingStream()
    const writer = new LineWriter(stream as unknown as NodeJS.WritableStream, { maxBufferedBytes: 1024 })
    writer.emit(log(1))
    assert.deepEqual(messages(stream.writes), ['m1'], 'a lone event must not wait for the end of the turn')
    await nextTurn()
    writer.emit(log(2))
    assert.equal(stream.writes.length, 2, 'the first event of the next turn is written at once too')
  })

  test('the events that follow it in the same turn go out together in one more write, in order', async () => {
    const stream = new RecordingStream()
    const writer = new LineWriter(stream as unknown as NodeJS.WritableStream, { maxBufferedBytes: 1024 })
    for (let i = 0; i < 50; i++) writer.emit(log(i))
    assert.equal(stream.writes.length, 1)
    await writer.drained()
    assert.equal(stream.writes.length, 2, `50 events of one turn took ${stream.writes.length} writes`)
    assert.deepEqual(messages(stream.writes), Array.from({ length: 50 }, (_, i) => `m${i}`))
  })

  test('a burst over several turns takes one write per turn after the first', async () => {
    const stream = new RecordingStream()
    const writer = new LineWriter(stream as unknown as NodeJS.WritableStream, { maxBufferedBytes: 1024 })
    for (let turn = 0; turn < 5; turn++) {
      for (let i = 0; i < 10; i++) writer.emit(log(turn * 10 + i))
      await nextTurn()
    }
    await writer.drained()
    assert.equal(stream.writes.length, 6, `50 events over 5 turns took ${stream.writes.length} writes`)
    assert.deepEqual(messages(stream.writes), Array.from({ length: 50 }, (_, i) => `m${i}`))
  })

  test('while the stream is full nothing is written; on drain the queue goes out in one write', async () => {
    const stream = new RecordingStream()
    const writer = new LineWriter(stream as unknown as NodeJS.WritableStream, { maxBufferedBytes: 1024 })
    stream.full = true
    writer.emit(log(0))
    assert.equal(writer.congested, true)
    await nextTurn()
    for (let i = 1; i < 5; i++) writer.emit(log(i))
    await nextTurn()
    assert.equal(stream.writes.length, 1, 'events were written past a full stream')
    let drained = false
    void writer.drained().then(() => { drained = true })
    stream.full = false
    stream.emit('drain')
    assert.equal(stream.writes.length, 2)
    await nextTurn()
    assert.equal(drained, true)
    assert.deepEqual(messages(stream.writes), ['m0', 'm1', 'm2', 'm3', 'm4'])
  })

  test('lines given as bytes and as events in one turn go out in one write, in order', async () => {
    const stream = new RecordingStream()
    const writer = new LineWriter(stream as unknown as NodeJS.WritableStream, { maxBufferedBytes: 1024 })
    writer.emit(log(0))
    writer.emitLine(Buffer.from(JSON.stringify(log(1)) + '\n'))
    writer.emit(log(2))
    writer.emitLine(Buffer.from(JSON.stringify(log(3)) + '\n'))
    await writer.drained()
    assert.equal(stream.writes.length, 2)
    assert.deepEqual(messages(stream.writes), ['m0', 'm1', 'm2', 'm3'])
  })
})
