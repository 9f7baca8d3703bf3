import '../src/polyfill.js'
import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { ProtocolError } from '@p2p-node/protocol'
import type { PeerId } from '@libp2p/interface'
import { Deadline } from '../src/deadline.js'
import { FrameDecoder } from '../src/frames.js'
import { DirectMessaging, MaybeDeliveredError } from '../src/messaging.js'
import type { Libp2pNode } from '../src/libp2p.js'
import type { Logger } from '../src/output.js'

/**
 * A stand-in for the stream to one peer. These tests need orderings a real
 * stream does not produce on demand: an ack handled in the same instant as a
 * deadline, a stream that refuses a write. The e2e tests cover the rest.
 */
class StandInStream extends EventTarget {
  /** Seqs of the message frames written, in order. */
  readonly written: number[] = []
  refuse = false
  private readonly decoder = new FrameDecoder(1 << 20)

  send (data: Uint8Array): boolean {
    if (this.refuse) throw new Error('Cannot write to a stream that is closing')
    for (const frame of this.decoder.decode(data)) this.written.push(frame.getUint32(1))
    return true
  }

  async onDrain (): Promise<void> {}

  ack (seq: number): void {
    const frame = new Uint8Array(6)
    frame[0] = 5
    frame[1] = 1
    new DataView(frame.buffer).setUint32(2, seq)
    this.dispatchEvent(Object.assign(new Event('message'), { data: frame }))
  }

  close (): void {
    this.dispatchEvent(new Event('close'))
  }
}

const peer = { toString: () => 'peer' } as unknown as PeerId

function messagingOver (stream: StandInStream): DirectMessaging {
  const node = { dialProtocol: async () => stream } as unknown as Libp2pNode
  return new DirectMessaging(node, { onMessage: async () => {}, log: {} as unknown as Logger, maxMessageBytes: 1 << 20, maxMessagesPerSecond: 1e9 })
}

/**
 * Lets the sends started so far reach the stream. The writer flushes in a
 * setImmediate queued when a frame reaches it, which is behind this helper's
 * first one: the second runs after the flush.
 */
const settle = async (): Promise<void> => {
  for (let turn = 0; turn < 2; turn++) await new Promise((resolve) => setImmediate(resolve))
}

describe('DirectMessaging (stand-in stream)', () => {
  test('a send whose deadline passes while it waits for the window is never written, even if room comes first', async () => {
    const stream = new StandInStream()
    const messaging = messagingOver(stream)
    // 256 sends fill the window.
    const filling = Array.from({ length: 256 }, async () => await messaging.send(peer, new Uint8Array(1), new Deadline(10_000)))
    await settle()
    assert.equal(stream.written.length, 256)
    const deadline = new Deadline(30)
    const late = messaging.send(peer, new Uint8Array(1), deadline).then(() => 'sent', (err: Error) => err.name)
    // Room comes in the same timer turn as the deadline passes, before the channel's timer runs.
    await new Promise<void>((resolve) => setTimeout(() => {
      while (!deadline.expired) { /* up to the deadline */ }
      stream.ack(0)
      resolve()
    }, deadline.timeoutMs - 5))
    assert.equal(await late, 'TimeoutError')
    assert.ok(!stream.written.includes(256), 'the timed-out send was written: the peer would have it although the client was told TIMEOUT')
    // The room it did not take goes to the next send.
    const next = messaging.send(peer, new Uint8Array(1), new Deadline(10_000))
    await settle()
    assert.equal(stream.written.at(-1), 256)
    stream.ack(256)
    await next
    for (let seq = 1; seq < 256; seq++) stream.ack(seq)
    await Promise.all(filling)
  })

  test('frames a closing stream refused fail their sends as not delivered; frames it took fail as maybe delivered', async () => {
    const stream = new StandInStream()
    const messaging = messagingOver(stream)
    const taken = messaging.send(peer, new Uint8Array(1), new Deadline(10_000)).catch((err: Error) => err)
    await settle()
    stream.refuse = true
    const refused = messaging.send(peer, new Uint8Array(1), new Deadline(10_000)).catch((err: Error) => err)
    await settle()
    stream.close()
    const [first, second] = await Promise.all([taken, refused])
    assert.ok(first instanceof MaybeDeliveredError, `the frame the stream took: ${String(first)}`)
    assert.ok(second instanceof ProtocolError && !(second instanceof MaybeDeliveredError), `the refused frame: ${String(second)}`)
    assert.equal((second as ProtocolError).code, 'DIAL_FAILED')
    assert.match((second as ProtocolError).message, /not delivered/)
  })
})
