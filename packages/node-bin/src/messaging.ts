import { LengthPrefixedDecoder } from '@libp2p/utils'
import * as varint from 'uint8-varint'
import { Uint8ArrayList } from 'uint8arraylist'
import { ProtocolError } from '@p2p-node/protocol'
import type { Connection, PeerId, Stream } from '@libp2p/interface'
import { MESSAGE_PROTOCOL, MAX_MESSAGE_BYTES } from './constants.js'
import type { Libp2pNode } from './libp2p.js'
import type { Logger } from './output.js'

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

/** Hands a received message to the parent; resolves once it is written out. */
export type MessageHandler = (from: PeerId, body: Uint8Array) => Promise<void>

interface PendingAck {
  resolve: () => void
  reject: (err: Error) => void
}

/** One outbound stream to a peer, with the sends awaiting their acks. */
class OutboundChannel {
  private nextSeq = 0
  private readonly pending = new Map<number, PendingAck>()
  private readonly decoder = new LengthPrefixedDecoder({ maxDataLength: HEADER_BYTES })
  closed = false

  constructor (readonly stream: Stream, private readonly onClose: () => void) {
    stream.addEventListener('message', (event) => {
      try {
        for (const frame of this.decoder.decode(event.data)) this.onFrame(frame)
      } catch (err) {
        stream.abort(err as Error)
      }
    })
    stream.addEventListener('close', () => { this.close(new ProtocolError('DIAL_FAILED', 'the stream to the peer closed before it acknowledged the message; it may or may not have been delivered')) })
  }

  async send (body: Uint8Array, signal: AbortSignal): Promise<void> {
    if (this.closed) throw new ProtocolError('DIAL_FAILED', 'the stream to the peer is closed')
    const seq = this.nextSeq
    this.nextSeq = (this.nextSeq + 1) >>> 0
    const acked = Promise.withResolvers<void>()
    this.pending.set(seq, acked)
    const onAbort = (): void => {
      this.pending.delete(seq)
      acked.reject(signal.reason)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    try {
      const header = new Uint8Array(HEADER_BYTES)
      header[0] = KIND_MESSAGE
      new DataView(header.buffer).setUint32(1, seq)
      const frame = new Uint8ArrayList(varint.encode(HEADER_BYTES + body.byteLength), header, body)
      if (!this.stream.send(frame)) await this.stream.onDrain({ signal })
      await acked.promise
    } finally {
      signal.removeEventListener('abort', onAbort)
      this.pending.delete(seq)
    }
  }

  close (reason: Error): void {
    if (this.closed) return
    this.closed = true
    for (const pending of this.pending.values()) pending.reject(reason)
    this.pending.clear()
    this.onClose()
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
}

/** Reliable, acknowledged direct messages over one long-lived stream per peer. */
export class DirectMessaging {
  private readonly channels = new Map<string, Promise<OutboundChannel>>()

  constructor (private readonly node: Libp2pNode, private readonly init: DirectMessagingInit) {}

  async start (): Promise<void> {
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
  async send (peerId: PeerId, body: Uint8Array, signal: AbortSignal): Promise<void> {
    if (body.byteLength > MAX_MESSAGE_BYTES - HEADER_BYTES) {
      throw new ProtocolError('INVALID_COMMAND', `field "data": encodes to ${body.byteLength} bytes, more than the ${MAX_MESSAGE_BYTES - HEADER_BYTES} a direct message may carry`)
    }
    const channel = await this.channel(peerId, signal)
    await channel.send(body, signal)
  }

  /** Closes every outbound stream; pending sends fail. */
  stop (): void {
    for (const channel of this.channels.values()) {
      channel.then((open) => { open.close(new ProtocolError('SHUTTING_DOWN', 'the node is shutting down')) }, () => {})
    }
    this.channels.clear()
  }

  private async channel (peerId: PeerId, signal: AbortSignal): Promise<OutboundChannel> {
    const key = peerId.toString()
    let channel = this.channels.get(key)
    if (channel === undefined) {
      channel = this.open(peerId, key, signal)
      this.channels.set(key, channel)
      channel.catch(() => { if (this.channels.get(key) === channel) this.channels.delete(key) })
    }
    const open = await channel
    if (!open.closed) return open
    if (this.channels.get(key) === channel) this.channels.delete(key)
    return await this.channel(peerId, signal)
  }

  private async open (peerId: PeerId, key: string, signal: AbortSignal): Promise<OutboundChannel> {
    const stream = await this.node.dialProtocol(peerId, MESSAGE_PROTOCOL, { signal, runOnLimitedConnection: true })
    const channel: OutboundChannel = new OutboundChannel(stream, () => {
      void this.channels.get(key)?.then((current) => { if (current === channel) this.channels.delete(key) })
    })
    return channel
  }

  private serve (stream: Stream, connection: Connection): void {
    const from = connection.remotePeer
    const decoder = new LengthPrefixedDecoder({ maxDataLength: MAX_MESSAGE_BYTES, maxBufferSize: MAX_MESSAGE_BYTES + 16 })
    stream.addEventListener('message', (event) => {
      try {
        for (const frame of decoder.decode(event.data)) {
          if (frame.byteLength < HEADER_BYTES || frame.get(0) !== KIND_MESSAGE) throw new Error('malformed message frame')
          const ack = new Uint8Array(1 + HEADER_BYTES)
          ack[0] = HEADER_BYTES
          ack[1] = KIND_ACK
          new DataView(ack.buffer).setUint32(2, frame.getUint32(1))
          void this.init.onMessage(from, frame.subarray(HEADER_BYTES)).then(() => {
            if (stream.writeStatus === 'writable') stream.send(ack)
          })
        }
      } catch (err) {
        this.init.log.warn('resetting a message stream from a peer that broke the protocol', { peerId: from.toString(), reason: (err as Error).message })
        stream.abort(err as Error)
      }
    })
  }
}
