// Sidecar host: a plain Node process that runs ./dist/p2p-node as its child
// and drives it over stdio through the SDK, as an agent would.
import { P2PNode } from '@p2p-node/sdk'
import type { MessageEvent } from '@p2p-node/sdk'
import { Inbox, RoundTrips, burst, now, payload, serveOps, untilSubscribers } from '../host-protocol.js'

const inbox = new Inbox()
const roundTrips = new RoundTrips()
let node: P2PNode
let echo = false

serveOps({
  async start ({ host, maxMessagesPerSecond = 1_000_000 }) {
    node = new P2PNode({ host, binaryPath: process.env.P2P_NODE_PATH, args: ['--max-messages-per-second', String(maxMessagesPerSecond)], requestTimeoutMs: 120_000 })
    const info = await node.start()
    node.on('message', (message: MessageEvent) => {
      const data = message.data as { i: number, t: number }
      if (message.topic !== undefined) {
        inbox.add(data.t)
        return
      }
      if (echo) void node.send(message.from, data).catch(() => {})
      roundTrips.answered(data.i)
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
    await untilSubscribers(async () => (await node.peers()).peers.filter((peer) => peer.topics.includes(topic)).length, { topic, count, timeoutMs })
  },
  async echo ({ enabled }) {
    echo = enabled
  },
  async sendBurst ({ to, count, size, window }) {
    return await burst(count, window, async (i) => { await node.send(to, payload(i, size)) })
  },
  async rtt ({ to, count, size }) {
    return await roundTrips.measure(count, async (i) => { await node.send(to, payload(i, size)) })
  },
  async publishBurst ({ topic, count, size, window }) {
    return await burst(count, window, async (i) => { await node.publish(topic, payload(i, size)) })
  },
  async waitReceived ({ count, timeoutMs }) {
    return await inbox.wait(count, timeoutMs)
  },
  async resetReceived () {
    inbox.reset()
  },
  async commandRtt ({ count, gapMs }) {
    const samples: number[] = []
    for (let i = 0; i < count; i++) {
      const started = now()
      await node.peers()
      samples.push(now() - started)
      await new Promise((resolve) => setTimeout(resolve, gapMs))
    }
    return { samples }
  },
  async stop () {
    await node.stop()
  }
})
