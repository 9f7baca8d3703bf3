// Reference host: the libp2p stack of p2p-node (createLibp2pNode: TCP, Noise,
// Yamux, identify, ping, gossipsub, Kademlia, relay, AutoNAT, DCUtR) and its
// direct-message protocol (DirectMessaging), used in this process with no
// sidecar in between. What the sidecar adds over this is its cost.
import '../../../node-bin/src/polyfill.js'
import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import type { PeerId } from '@libp2p/interface'
import { createStack } from './stack.js'
import type { Libp2pNode } from '../../../node-bin/src/libp2p.js'
import { DirectMessaging } from '../../../node-bin/src/messaging.js'
import { Logger } from '../../../node-bin/src/output.js'
import { DEFAULT_MAX_MESSAGE_BYTES } from '../../../node-bin/src/constants.js'
import { Inbox, now, payload, serveOps, windowed } from '../host-protocol.js'

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const inbox = new Inbox()
const replies = new Map<number, () => void>()
let node: Libp2pNode
let messaging: DirectMessaging
let echo = false

const encode = (value: unknown): Uint8Array => encoder.encode(JSON.stringify(value))

serveOps({
  async start ({ host }) {
    node = await createStack(host)
    messaging = new DirectMessaging(node, {
      log: new Logger({ emit: () => {} }, 'error'),
      maxMessageBytes: DEFAULT_MAX_MESSAGE_BYTES,
      maxMessagesPerSecond: 1_000_000,
      onMessage: async (from: PeerId, body: Uint8Array) => {
        // Parsed as the sidecar parses it, to hand the same value to its parent.
        const data = JSON.parse(decoder.decode(body)) as { i: number }
        if (echo) void messaging.send(from, body, AbortSignal.timeout(30_000)).catch(() => {})
        replies.get(data.i)?.()
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
    const deadline = Date.now() + timeoutMs
    while (node.services.pubsub.getSubscribers(topic).length < count) {
      if (Date.now() > deadline) throw new Error(`fewer than ${count} subscribers on ${topic} after ${timeoutMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  },
  async echo ({ enabled }) {
    echo = enabled
  },
  async sendBurst ({ to, count, size, window }) {
    const peer = peerIdFromString(to)
    const started = now()
    await windowed(count, window, async (i) => { await messaging.send(peer, encode(payload(i, size)), AbortSignal.timeout(60_000)) })
    return { ms: now() - started }
  },
  async rtt ({ to, count, size }) {
    const peer = peerIdFromString(to)
    const samples: number[] = []
    for (let i = 0; i < count; i++) {
      const started = now()
      const answered = new Promise<void>((resolve) => { replies.set(i, resolve) })
      await messaging.send(peer, encode(payload(i, size)), AbortSignal.timeout(30_000))
      await answered
      replies.delete(i)
      samples.push(now() - started)
    }
    return { samples }
  },
  async publishBurst ({ topic, count, size, window }) {
    const started = now()
    await windowed(count, window, async (i) => { await node.services.pubsub.publish(topic, encode(payload(i, size))) })
    return { ms: now() - started }
  },
  async waitReceived ({ count, timeoutMs }) {
    return await inbox.wait(count, timeoutMs)
  },
  async resetReceived () {
    inbox.reset()
  },
  async stop () {
    messaging.stop()
    await node.stop()
  }
})
