import * as varint from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { raceSignal } from 'race-signal'
import { ProtocolError } from '@p2p-node/protocol'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { DIAL_TIMEOUT_MS, MESSAGE_PROTOCOL } from './constants.js'
import { FrameDecoder, FrameTooLargeError } from './frames.js'
import type { Libp2pNode } from './libp2p.js'
import type { Logger } from './output.js'
import { timeoutError } from './deadline.js'
import type { Deadline } from './deadline.js'

/**
 * Wire format of MESSAGE_PROTOCOL. Each side opens one long-lived stream to a
 * peer it sends to and writes varint-length-prefixed frames on it:
 *
 *   message: 0x00, seq (uint32 big-endian), body (UTF-8 JSON)
 *   ack:     0x01, seq (uint32 big-endian)   written back by the receiver
 *
 * The receiver acknowledges a message once it has written it to its parent's
 * stdout, so a send resolves only after delivery, and a parent that stops
 * reading stdout stops the acks, which holds the senders back. Frames are never retried: a send that
 * fails (stream lost, timeout) may or may not have been delivered, and is
 * never delivered twice.
 */
const KIND_MESSAGE = 0
const KIND_ACK = 1
const HEADER_BYTES = 5

/*
 * Frame heads and acks are cut from Node's buffer pool (Buffer.allocUnsafe):
 * a small Uint8Array of its own, once a DataView asks for its buffer, costs a
 * malloc, and a sweep when collected; measured in a loop (Node 20), building a
 * message frame took 1.2 µs that way and 0.2 µs this way, an ack 1.25 and
 * 0.04 µs.
 */

/** One message frame, ready to write: length prefix, kind, seq, body. */
export function messageFrame (seq: number, body: Uint8Array): Uint8ArrayList {
  const length = HEADER_BYTES + body.byteLength
  const prefixBytes = varint.encodingLength(length)
  const head = Buffer.allocUnsafe(prefixBytes + HEADER_BYTES)
  varint.encodeUint8Array(length, head)
  head[prefixBytes] = KIND_MESSAGE
  head.writeUInt32BE(seq, prefixBytes + 1)
  return new Uint8ArrayList(head, body)
}

/** The ack frame of message `seq`: length prefix, kind, seq. */
function ackFrame (seq: number): Uint8Array {
  const ack = Buffer.allocUnsafe(1 + HEADER_BYTES)
  ack[0] = HEADER_BYTES
  ack[1] = KIND_ACK
  ack.writeUInt32BE(seq, 2)
  return ack
}

/** A send that failed after its frame was written: the peer may have it, so it must not be sent again. */
export class MaybeDeliveredError extends ProtocolError {
  static override name = 'MaybeDeliveredError'
  override name = 'MaybeDeliveredError'
}

/** Hands a received message to the parent; resolves once it is written out. */
export type MessageHandler = (from: PeerId, body: Uint8Array) => Promise<void>

/** A send waiting for room in the window. */
interface WindowWaiter {
  wake: () => void
  fail: (err: Error) => void
  /** On performance.now()'s clock. */
  deadline: number
}

interface PendingAck {
  resolve: () => void
  reject: (err: Error) => void
}

/** Most messages a sender has on the wire without their acks (per stream). */
const MAX_IN_FLIGHT = 256
/** Most bytes a sender has on the wire without their acks (per stream). */
const MAX_IN_FLIGHT_BYTES = 8 * 1024 * 1024

/**
 * Writes what is handed to it in one event-loop turn to the stream as one
 * write: up to 64 KiB, that is one yamux frame, one Noise record and one
 * syscall for all of it instead of one each. A stdin read brings many send
 * commands at once, and a stdout flush delivers many messages, so many acks.
 * It waits for the turn's end (setImmediate), not for the microtask
 * checkpoint: the frames of one turn come from several callbacks (the first
 * message of a turn goes to stdout at once, the rest at the turn's end, and
 * each write acks its own), and a loopback TCP write costs the writer the
 * receiver's side of the delivery too. Measured with two sidecars, a 1 KiB
 * burst took half the receiver's ack writes and about 12 % less CPU per
 * message in all; a lone frame waits only for the rest of its turn.
 * While the stream asks to drain, writes wait here and go out together after.
 * A stream that refuses them (it is closing) drops them, and tells each
 * writer that gave an `onDropped` callback: those bytes never left.
 */
class CoalescingWriter {
  private chunks: Array<Uint8Array | Uint8ArrayList> = []
  private dropped: Array<() => void> = []
  private scheduled = false
  private draining = false

  constructor (private readonly stream: Stream) {}

  write (chunk: Uint8Array | Uint8ArrayList, onDropped?: () => void): void {
    this.chunks.push(chunk)
    if (onDropped !== undefined) this.dropped.push(onDropped)
    if (this.scheduled || this.draining) return
    this.scheduled = true
    setImmediate(this.flush)
  }

  private readonly flush = (): void => {
    this.scheduled = false
    if (this.draining || this.chunks.length === 0) return
    const chunks = this.chunks
    const dropped = this.dropped
    this.chunks = []
    this.dropped = []
    try {
      if (this.stream.send(chunks.length === 1 ? chunks[0] as Uint8Array | Uint8ArrayList : new Uint8ArrayList(...chunks))) return
    } catch {
      for (const onDropped of dropped) onDropped()
      return
    }
    this.draining = true
    this.stream.onDrain().then(() => {
      this.draining = false
      this.flush()
    }, () => {
      const waiting = this.dropped
      this.chunks = []
      this.dropped = []
      for (const onDropped of waiting) onDropped()
    })
  }
}

/**
 * One outbound stream to a peer, with the sends awaiting their acks. Flow
 * control: at most MAX_IN_FLIGHT messages or MAX_IN_FLIGHT_BYTES are sent and
 * not yet acknowledged; later sends wait their turn, in order. As a receiver
 * acknowledges only what its parent has read, a parent that stops reading
 * holds its senders back and its node buffers a bounded amount.
 */
class OutboundChannel {
  private nextSeq = 0
  private readonly pending = new Map<number, PendingAck & { bytes: number, deadline: number }>()
  /** When expire runs next (Infinity: not scheduled); one timer serves every send of the channel. */
  private expiryAt = Infinity
  private expiryTimer: NodeJS.Timeout | undefined
  private inFlightBytes = 0
  private readonly waitingForWindow: WindowWaiter[] = []
  /** Sends woken from waitingForWindow that have not taken their turn yet; nobody may overtake them. */
  private handoffs = 0
  private readonly decoder = new FrameDecoder(HEADER_BYTES)
  private readonly writer: CoalescingWriter
  closed = false

  constructor (readonly stream: Stream, private readonly onClose: () => void) {
    this.writer = new CoalescingWriter(stream)
    stream.addEventListener('message', (event) => {
      try {
        for (const frame of this.decoder.decode(event.data)) this.onFrame(frame)
      } catch (err) {
        stream.abort(err as Error)
      }
    })
    stream.addEventListener('close', () => { this.close(new MaybeDeliveredError('DIAL_FAILED', 'the stream to the peer closed before it acknowledged the message; it may or may not have been delivered')) })
  }

  async send (body: Uint8Array, deadline: Deadline): Promise<void> {
    deadline.throwIfExpired()
    if (this.closed) throw new ProtocolError('DIAL_FAILED', 'the stream to the peer is closed')
    if (this.waitingForWindow.length > 0 || this.handoffs > 0 || !this.windowOpen(body.byteLength)) {
      await this.waitForWindow(body.byteLength, deadline)
      // Its turn may come after its deadline, before the timer noticed: then it is not sent.
      if (deadline.expired) {
        this.wakeNext()
        throw timeoutError()
      }
    }
    const seq = this.nextSeq
    this.nextSeq = (this.nextSeq + 1) >>> 0
    const acked = Promise.withResolvers<void>()
    this.pending.set(seq, { resolve: acked.resolve, reject: acked.reject, bytes: body.byteLength, deadline: deadline.at })
    this.inFlightBytes += body.byteLength
    if (deadline.at < this.expiryAt) this.expireAt(deadline.at)
    this.wakeNext()
    this.writer.write(messageFrame(seq, body), () => { acked.reject(new ProtocolError('DIAL_FAILED', 'the stream to the peer closed before the message was written; it was not delivered')) })
    try {
      await acked.promise
    } finally {
      this.release(seq)
    }
  }

  close (reason: Error): void {
    if (this.closed) return
    this.closed = true
    clearTimeout(this.expiryTimer)
    for (const pending of this.pending.values()) pending.reject(reason)
    this.pending.clear()
    this.inFlightBytes = 0
    for (const waiter of this.waitingForWindow.splice(0)) {
      this.handoffs++
      waiter.wake()
    }
    this.onClose()
  }

  /**
   * Fails the sends whose deadline has passed, waiting for the window or for
   * their ack, and schedules itself for the next deadline.
   */
  private readonly expire = (): void => {
    const now = performance.now()
    let next = Infinity
    for (const waiter of this.waitingForWindow) {
      // It leaves the line in waitForWindow, where the failure lands.
      if (waiter.deadline <= now) waiter.fail(timeoutError())
      else next = Math.min(next, waiter.deadline)
    }
    for (const [seq, entry] of this.pending) {
      if (entry.deadline > now) {
        next = Math.min(next, entry.deadline)
        continue
      }
      this.release(seq)
      entry.reject(timeoutError())
    }
    this.expiryAt = Infinity
    if (next < Infinity) this.expireAt(next)
  }

  private expireAt (at: number): void {
    clearTimeout(this.expiryTimer)
    this.expiryAt = at
    this.expiryTimer = setTimeout(this.expire, Math.max(0, at - performance.now()))
    // Pending sends keep the process busy through their commands, not through this timer.
    this.expiryTimer.unref()
  }

  private windowOpen (bytes: number): boolean {
    // A message larger than the byte window still goes, alone.
    return this.pending.size < MAX_IN_FLIGHT && (this.inFlightBytes + bytes <= MAX_IN_FLIGHT_BYTES || this.pending.size === 0)
  }

  /** Waits, behind the sends already waiting, until the window has room for `bytes`. */
  private async waitForWindow (bytes: number, deadline: Deadline): Promise<void> {
    let atHead = false
    while (true) {
      const turn = Promise.withResolvers<void>()
      const waiter: WindowWaiter = { wake: turn.resolve, fail: turn.reject, deadline: deadline.at }
      if (atHead) this.waitingForWindow.unshift(waiter)
      else this.waitingForWindow.push(waiter)
      if (deadline.at < this.expiryAt) this.expireAt(deadline.at)
      try {
        await turn.promise
      } catch (err) {
        const index = this.waitingForWindow.indexOf(waiter)
        if (index >= 0) this.waitingForWindow.splice(index, 1)
        else this.handoffs--
        this.wakeNext()
        throw err
      }
      this.handoffs--
      if (this.closed) throw new ProtocolError('DIAL_FAILED', 'the stream to the peer closed while the message waited to be sent')
      if (this.windowOpen(bytes)) return
      // Not enough room yet for this one: it keeps its place at the head of the line.
      atHead = true
    }
  }

  private wakeNext (): void {
    if (this.handoffs > 0 || this.waitingForWindow.length === 0 || !this.windowOpen(0)) return
    this.handoffs++
    this.waitingForWindow.shift()?.wake()
  }

  private release (seq: number): void {
    const entry = this.pending.get(seq)
    if (entry === undefined) return
    this.pending.delete(seq)
    this.inFlightBytes -= entry.bytes
    this.wakeNext()
  }

  private onFrame (frame: Uint8ArrayList): void {
    if (frame.byteLength !== HEADER_BYTES || frame.get(0) !== KIND_ACK) throw new Error('peer sent a malformed ack frame')
    this.pending.get(frame.getUint32(1))?.resolve()
  }
}

export interface DirectMessagingInit {
  /** Called for every message received; the message is acknowledged when the returned promise resolves. */
  onMessage: MessageHandler
  log: Logger
  /** Largest message body accepted or sent, bytes (--max-message-bytes). */
  maxMessageBytes: number
  /** Messages per second one peer may send before its stream is reset (--max-messages-per-second). */
  maxMessagesPerSecond: number
}

/** A token bucket: `rate` tokens a second, holding at most one second's worth. */
class RateLimiter {
  private tokens: number
  private last = performance.now()

  constructor (private readonly rate: number) {
    this.tokens = rate
  }

  take (): boolean {
    const now = performance.now()
    this.tokens = Math.min(this.rate, this.tokens + (now - this.last) * this.rate / 1000)
    this.last = now
    if (this.tokens < 1) return false
    this.tokens -= 1
    return true
  }
}

/** Reliable, acknowledged direct messages over one long-lived stream per peer. */
export class DirectMessaging {
  private readonly channels = new Map<string, Promise<OutboundChannel>>()
  /** The channels of `channels` that are open, for sends that need not wait for one. */
  private readonly open = new Map<string, OutboundChannel>()
  private readonly limiters = new Map<string, RateLimiter>()

  constructor (private readonly node: Libp2pNode, private readonly init: DirectMessagingInit) {}

  async start (): Promise<void> {
    this.node.addEventListener('peer:disconnect', (event) => { this.limiters.delete(event.detail.toString()) })
    await this.node.handle(MESSAGE_PROTOCOL, (stream, connection) => { this.serve(stream, connection) }, {
      maxInboundStreams: 8,
      maxOutboundStreams: 8,
      // Also over relayed connections (circuit relay v2), for peers that cannot be dialled directly.
      runOnLimitedConnection: true
    })
  }

  /**
   * Sends one message and resolves once the peer acknowledged it. Opens the
   * stream first if there is none (dialling the peer if needed).
   */
  async send (peerId: PeerId, body: Uint8Array, deadline: Deadline): Promise<void> {
    if (body.byteLength > this.init.maxMessageBytes) {
      throw new ProtocolError('INVALID_COMMAND', `field "data": encodes to ${body.byteLength} bytes, more than the ${this.init.maxMessageBytes} a direct message may carry (--max-message-bytes)`)
    }
    const key = peerId.toString()
    const open = this.open.get(key)
    await (open !== undefined && !open.closed ? open : await this.channel(peerId, key, deadline)).send(body, deadline)
  }

  /** Closes every outbound stream; pending sends fail. */
  stop (): void {
    for (const channel of this.channels.values()) {
      channel.then((open) => { open.close(new ProtocolError('SHUTTING_DOWN', 'the node is shutting down')) }, () => {})
    }
    this.channels.clear()
    this.open.clear()
  }

  private async channel (peerId: PeerId, key: string, deadline: Deadline): Promise<OutboundChannel> {
    let channel = this.channels.get(key)
    if (channel === undefined) {
      // Shared by every send to the peer, so it dials under its own time limit, not the first caller's.
      channel = this.dial(peerId, key, AbortSignal.timeout(DIAL_TIMEOUT_MS))
      this.channels.set(key, channel)
      channel.catch(() => { if (this.channels.get(key) === channel) this.channels.delete(key) })
    }
    const open = await raceSignal(channel, deadline.signal)
    if (!open.closed) return open
    if (this.channels.get(key) === channel) this.channels.delete(key)
    return await this.channel(peerId, key, deadline)
  }

  private async dial (peerId: PeerId, key: string, signal: AbortSignal): Promise<OutboundChannel> {
    const stream = await this.node.dialProtocol(peerId, MESSAGE_PROTOCOL, { signal, runOnLimitedConnection: true })
    const channel: OutboundChannel = new OutboundChannel(stream, () => {
      if (this.open.get(key) === channel) this.open.delete(key)
      void this.channels.get(key)?.then((current) => { if (current === channel) this.channels.delete(key) })
    })
    this.open.set(key, channel)
    return channel
  }

  private serve (stream: Stream, connection: Connection): void {
    const from = connection.remotePeer
    const key = from.toString()
    const limiter = this.limiters.get(key) ?? new RateLimiter(this.init.maxMessagesPerSecond)
    this.limiters.set(key, limiter)
    const decoder = new FrameDecoder(HEADER_BYTES + this.init.maxMessageBytes)
    const acks = new CoalescingWriter(stream)
    stream.addEventListener('message', (event) => {
      try {
        for (const frame of decoder.decode(event.data)) {
          if (frame.byteLength < HEADER_BYTES || frame.get(0) !== KIND_MESSAGE) throw new Error('malformed message frame')
          if (!limiter.take()) throw new Error(`more than ${this.init.maxMessagesPerSecond} messages a second (--max-messages-per-second)`)
          const ack = ackFrame(frame.getUint32(1))
          // An ack for a stream closed meanwhile is not needed: the sender already failed the message.
          void this.init.onMessage(from, frame.subarray(HEADER_BYTES)).then(() => { acks.write(ack) })
        }
      } catch (err) {
        // The decoder refuses an oversize frame by its length prefix.
        const reason = err instanceof FrameTooLargeError ? `a message over ${this.init.maxMessageBytes} bytes (--max-message-bytes)` : (err as Error).message
        this.init.log.warn('reset a message stream from a peer that broke the rules', { peerId: key, reason })
        stream.abort(err as Error)
        return
      }
    })
  }
}
