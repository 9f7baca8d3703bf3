import { setPriority } from 'node:os'
import { P2PNode } from '@p2p-node/sdk'
import type { MessageEvent, PeerConnectedEvent } from '@p2p-node/sdk'
import { BINARY } from './host.js'
import { now, untilSubscribers } from './host-protocol.js'
import { cpuOf, rssOf } from './proc.js'

export interface ScaleResult {
  /** From the first node's start until every node was connected to the bootstrap node, ms; Infinity if one was not by the end of discovery. */
  bootstrapReachedMs: number
  /** From the first subscribe until every node's subscribe had replied (each waits for its DHT advertisement), ms. */
  joinedMs: number
  /** From the moment all had subscribed until every node's discover listed every other node, ms; Infinity if that took over DISCOVERY_LIMIT_MS. */
  discoveredMs: number
  /** Nodes whose discover listed every other node in time. */
  complete: number
  /**
   * CPU time all sidecars (the bootstrap node included) spent over the same
   * span as discoveredMs, ms: on a 2-core machine a 50-node run either
   * settles or stays saturated, and this tells which.
   */
  discoveryCpuMs: number
  /** Per publish: until the last of the other N − 1 nodes had it, ms. */
  allDeliveredMs: number[]
  /** The publish that took longest to reach everyone: its place in the order (0 = first) and that time, ms. */
  slowest?: { index: number, ms: number }
  /** RSS of every sidecar, the bootstrap node included, bytes. */
  totalRss: number
  expected: number
  missing: number
}

const TOPIC = 'scale'
/** How long the nodes may take to find each other before the scenario gives up on that figure, ms. */
export const DISCOVERY_LIMIT_MS = 120_000

/**
 * How much lower than the bootstrap's the other nodes' scheduling priority is
 * when it is prioritised (their nice value): its CPU share then matches a
 * bootstrap with a core of its own, and joining nodes still share the rest.
 */
export const PRIORITISED_NICE = 10

/**
 * N sidecars (SDK instances in this process) that know only a bootstrap node:
 * all subscribe; then each calls discover until it has found all the others; then
 * `publishes` messages from nodes in turn (each once its publisher has heard
 * of a subscriber), each timed until every other node received it. With
 * `prioritiseBootstrap`, each of the N nodes is set to nice PRIORITISED_NICE
 * as soon as it is ready (it starts at the bootstrap's priority): on a machine
 * this size, 50 nodes that start together leave the one bootstrap they all
 * need a fiftieth of the CPU.
 */
export async function measureScale (n: number, publishes: number, { prioritiseBootstrap = false } = {}): Promise<ScaleResult> {
  const options = { host: '127.0.0.1', binaryPath: BINARY, startTimeoutMs: 60_000, requestTimeoutMs: 60_000 }
  const boot = new P2PNode({ ...options, args: ['--bootstrap-node'] })
  const nodes: P2PNode[] = []
  // When each node connected to the bootstrap node (its peer_connected event): joining waits on that.
  const reachedBootstrap = new Map<P2PNode, number>()
  try {
    await boot.start()
    const firstStart = now()
    for (let i = 0; i < n; i += 10) {
      const batch = Array.from({ length: Math.min(10, n - i) }, () => new P2PNode({ ...options, bootstrapPeers: [boot.addrs[0] as string] }))
      for (const node of batch) {
        node.on('peer_connected', (event: PeerConnectedEvent) => {
          // A node that reconnects counts once, at its first connection.
          if (event.peerId === boot.peerId && !reachedBootstrap.has(node)) reachedBootstrap.set(node, now() - firstStart)
        })
      }
      nodes.push(...batch)
      await Promise.all(batch.map(async (node) => {
        await node.start()
        if (prioritiseBootstrap) setPriority(node.pid as number, PRIORITISED_NICE)
      }))
    }
    const arrivals = new Map<number, number[]>()
    for (const node of nodes) {
      node.on('message', (message: MessageEvent) => {
        const data = message.data as { k?: number }
        if (message.topic === TOPIC && typeof data.k === 'number') arrivals.get(data.k)?.push(now())
      })
    }

    const joining = now()
    await Promise.all(nodes.map(async (node) => { await node.subscribe(TOPIC) }))
    const joinedMs = now() - joining

    // Like the ten-node test, discovery is timed from the moment all are subscribed.
    const allCpu = async (): Promise<number> => (await Promise.all([boot, ...nodes].map(async (node) => await cpuOf(node.pid as number)))).reduce((sum, ms) => sum + ms, 0)
    const cpuBefore = await allCpu()
    const started = now()
    let complete = 0
    await Promise.all(nodes.map(async (node) => {
      const deadline = Date.now() + DISCOVERY_LIMIT_MS
      while (Date.now() < deadline) {
        // A node this loaded can miss a discover's time limit: that is one more round, not a failure.
        const found = await node.discover(TOPIC, { timeoutMs: 5_000 }).catch(() => ({ peers: [] }))
        if (found.peers.length >= n - 1) {
          complete++
          return
        }
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
    }))
    const discoveredMs = complete === n ? now() - started : Number.POSITIVE_INFINITY
    const discoveryCpuMs = await allCpu() - cpuBefore
    const allDeliveredMs: number[] = []
    let slowest: ScaleResult['slowest']
    let missing = 0
    for (let k = 0; k < publishes; k++) {
      const publisher = nodes[k % n] as P2PNode
      // A discover waits for a subscriber within its time limit; the publisher's last one may have
      // run out of time first, and a publish before a subscription arrived fails with NO_PEERS_SUBSCRIBED.
      await untilSubscribers(async () => (await publisher.peers()).peers.filter((peer) => peer.topics.includes(TOPIC)).length, { topic: TOPIC, count: 1, timeoutMs: 10_000 })
      const times: number[] = []
      arrivals.set(k, times)
      const sentAt = now()
      await publisher.publish(TOPIC, { k })
      const deadline = Date.now() + 10_000
      while (times.length < n - 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5))
      missing += n - 1 - times.length
      if (times.length === n - 1) {
        const ms = Math.max(...times) - sentAt
        allDeliveredMs.push(ms)
        if (slowest === undefined || ms > slowest.ms) slowest = { index: k, ms }
      }
    }
    let totalRss = await rssOf(boot.pid as number)
    for (const node of nodes) totalRss += await rssOf(node.pid as number)
    const bootstrapReachedMs = reachedBootstrap.size === n ? Math.max(...reachedBootstrap.values()) : Number.POSITIVE_INFINITY
    return { bootstrapReachedMs, joinedMs, discoveredMs, complete, discoveryCpuMs, allDeliveredMs, slowest, totalRss, expected: publishes * (n - 1), missing }
  } finally {
    await Promise.all([boot, ...nodes].map(async (node) => { await node.stop().catch(() => {}) }))
  }
}
