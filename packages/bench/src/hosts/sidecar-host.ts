// Sidecar host: a plain Node process that runs ./dist/p2p-node as its child
// and drives it over stdio through the SDK, as an agent would.
import { P2PNode } from '@p2p-node/sdk'
import type { MessageEvent } from '@p2p-node/sdk'
import { Inbox, now, payload, serveOps, windowed } from '../host-protocol.js'

const inbox = new Inbox()
const replies = new Map<number, () => void>()
let node: P2PNode
let echo = false

serveOps({
  async start ({ host }) {
    node = new P2PNode({ host, binaryPath: process.env.P2P_NODE_PATH, args: ['--max-messages-per-second', '1000000'], requestTimeoutMs: 120_000 })
    const info = await node.start()
    node.on('message', (message: MessageEvent) => {
      const data = message.data as { i: number, t: number }
      if (message.topic !== undefined) {
        inbox.add(data.t)
        return
      }
      if (echo) void node.send(message.from, data).catch(() => {})
      replies.get(data.i)?.()
    })
    return { ...info, pid: node.pid as number }
  },
  async dial ({ addr }) {
    await node.connect([addr])
  },
  async subscribe ({ topic }) {
    await node.subscribe(topic)
  },
  async waitSubscribers ({ topic, count, timeoutMs }) {
    const deadline = Date.now() + timeoutMs
    while ((await node.peers()).peers.filter((peer) => peer.topics.includes(topic)).length < count) {
      if (Date.now() > deadline) throw new Error(`fewer than ${count} subscribers on ${topic} after ${timeoutMs} ms`)
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  },
  async echo ({ enabled }) {
    echo = enabled
  },
  async sendBurst ({ to, count, size, window }) {
    const started = now()
    await windowed(count, window, async (i) => { await node.send(to, payload(i, size)) })
    return { ms: now() - started }
  },
  async rtt ({ to, count, size }) {
    const samples: number[] = []
    for (let i = 0; i < count; i++) {
      const started = now()
      const answered = new Promise<void>((resolve) => { replies.set(i, resolve) })
      await node.send(to, payload(i, size))
      await answered
      replies.delete(i)
      samples.push(now() - started)
    }
    return { samples }
  },
  async publishBurst ({ topic, count, size, window }) {
    const started = now()
    await windowed(count, window, async (i) => { await node.publish(topic, payload(i, size)) })
    return { ms: now() - started }
  },
  async waitReceived ({ count, timeoutMs }) {
    return await inbox.wait(count, timeoutMs)
  },
  async resetReceived () {
    inbox.reset()
  },
  async stop () {
    await node.stop()
  }
})
