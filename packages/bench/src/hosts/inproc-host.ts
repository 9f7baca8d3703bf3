// Reference host: the libp2p stack of p2p-node (createLibp2pNode: TCP, Noise,
// Yamux, identify, ping, gossipsub, Kademlia, relay, AutoNAT, DCUtR) and its
// direct-message protocol (DirectMessaging), used in this process with no
// sidecar in between. What the sidecar adds over this is its cost.
import '../../../node-bin/src/polyfill.js'
import { once } from 'node:events'
import { setTimeout as sleep } from 'node:timers/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerId, Stream } from '@libp2p/interface'
import { createStack } from './stack.js'
import type { Libp2pNode } from '../../../node-bin/src/libp2p.js'
import { DirectMessaging, messageFrame } from '../../../node-bin/src/messaging.js'
import { Deadline } from '../../../node-bin/src/deadline.js'
import { Logger } from '../../../node-bin/src/output.js'
import { DEFAULT_MAX_MESSAGE_BYTES, MESSAGE_PROTOCOL } from '../../../node-bin/src/constants.js'
import { Inbox, RoundTrips, burst, now, payload, serveOps, untilSubscribers } from '../host-protocol.js'

/** How long startFlood waits for the sidecar's first reset, ms. */
const FIRST_RESET_LIMIT_MS = 30_000

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const inbox = new Inbox()
const roundTrips = new RoundTrips()
let node: Libp2pNode
let messaging: DirectMessaging
let echo = false
let flood: { stop: () => Promise<{ frames: number, ms: number, resets: number }> } | undefined

const encode = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value))

serveOps({
  async start ({ host, maxMessagesPerSecond = 1_000_000 }) {
    node = await createStack(host)
    messaging = new DirectMessaging(node, {
      log: new Logger({ emit: () => {} }, 'error'),
      maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
      maxMessagesPerSecond,
      onMessage: async (from: PeerId, body: Uint8Array) => {
        // Parsed as the sidecar parses it, to hand the same value to its parent.
        const data = JSON.parse(decoder.decode(body)) as { i: number }
        if (echo) void messaging.send(from, body, new Deadline(30_000)).catch(() => {})
        roundTrips.answered(data.i)
      }
    })
    await messaging.start()
    await node.start()
    node.services.pubsub.addEventListener('message', (event) => {
      // Its own messages come back too (emitSelf, for the sidecar's history).
      if (event.detail.type === 'signed' && event.detail.from.equals(node.peerId)) return
      const data = JSON.parse(decoder.decode(event.detail.data)) as { t: number }
      inbox.add(data.t)
    })
    return { peerId: node.peerId.toString(), addrs: node.getMultiaddrs().map(String), pid: process.pid }
  },
  async dial ({ addr }) {
    await node.dial(multiaddr(addr), { signal: AbortSignal.timeout(10_000) })
  },
  async subscribe ({ topic }) {
    node.services.pubsub.subscribe(topic)
  },
  async waitSubscribers ({ topic, count, timeoutMs }) {
    await untilSubscribers(async () => node.services.pubsub.getSubscribers(topic).length, { topic, count, timeoutMs })
  },
  async echo ({ enabled }) {
    echo = enabled
  },
  async sendBurst ({ to, count, size, window }) {
    const peer = peerIdFromString(to)
    return await burst(count, window, async (i) => { await messaging.send(peer, encode(payload(i, size)), new Deadline(60_000)) })
  },
  async rtt ({ to, count, size }) {
    const peer = peerIdFromString(to)
    return await roundTrips.measure(count, async (i) => { await messaging.send(peer, encode(payload(i, size)), new Deadline(30_000)) })
  },
  async publishBurst ({ topic, count, size, window }) {
    return await burst(count, window, async (i) => { await node.services.pubsub.publish(topic, encode(payload(i, size))) })
  },
  async waitReceived ({ count, timeoutMs }) {
    return await inbox.wait(count, timeoutMs)
  },
  async resetReceived () {
    inbox.reset()
  },
  async startFlood ({ to, size }) {
    const peer = peerIdFromString(to)
    const body = encode(payload(0, size))
    const started = now()
    let running = true
    let frames = 0
    let resets = 0
    const firstReset = Promise.withResolvers<void>()
    const pump = (async () => {
      while (running) {
        const stream: Stream = await node.dialProtocol(peer, MESSAGE_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
        try {
          while (running && stream.status === 'open') {
            const batch = messageFrame(frames++, body)
            for (let i = 1; i < 64; i++) batch.append(messageFrame(frames++, body))
            if (!stream.send(batch)) await writeQueueEmptied(stream, 10_000)
            // Lets the reset (and the acks, unread) in between batches.
            await new Promise(setImmediate)
          }
        } catch {
          // Reset while sending or waiting for the stream to drain.
        }
        if (stream.status !== 'open') {
          resets++
          firstReset.resolve()
        }
        stream.abort(new Error('flood over'))
      }
    })()
    pump.catch(firstReset.reject)
    flood = {
      stop: async () => {
        running = false
        await pump
        return { frames, ms: now() - started, resets }
      }
    }
    // Bounded: a rogue that cannot write past the sidecar's rate limit never sees a reset.
    const noReset = setTimeout(() => { firstReset.reject(new Error(`no stream reset within ${FIRST_RESET_LIMIT_MS} ms of flooding (${frames} frames written): the rogue does not reach the sidecar's rate limit`)) }, FIRST_RESET_LIMIT_MS)
    try {
      await firstReset.promise
    } finally {
      clearTimeout(noReset)
    }
  },
  async stopFlood () {
    if (flood === undefined) throw new Error('no flood is running')
    const result = await flood.stop()
    flood = undefined
    return result
  },
  async stop () {
    await flood?.stop().catch(() => {})
    messaging.stop()
    await node.stop()
  }
})

/**
 * Resolves once everything written to the stream has gone out (or the stream
 * closed); rejects after ms. Not stream.onDrain(): @libp2p/utils keeps the
 * promise of the stream's first drain, so every later onDrain() resolves at
 * once, and a writer that trusts it piles megabytes into its own write queue
 * while the peer's window is closed (the rogue below then spent its time
 * cutting up that queue, and wrote slower than the rate limit it is there to
 * break).
 */
async function writeQueueEmptied (stream: Stream, ms: number): Promise<void> {
  if (stream.writeBufferLength === 0) return
  const stop = new AbortController()
  try {
    await Promise.race([
      once(stream, 'idle', { signal: stop.signal }),
      once(stream, 'close', { signal: stop.signal }),
      sleep(ms, undefined, { signal: stop.signal }).then(() => { throw new Error(`the stream's write queue did not empty within ${ms} ms`) })
    ])
  } finally {
    stop.abort()
  }
}
