// ConnectionPings (src/connection-pings.ts): each connection is pinged on a
// schedule of its own, and its round trip lands in connection.rtt. Real libp2p
// nodes (TCP, Noise, Yamux with its keep-alive off, as in the node) in this
// process, on 127.0.0.1, with a short interval. They run no ping service: the
// round trip comes from yamux ping frames, with no stream opened.
import '../src/polyfill.js'
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import type { Connection, Libp2p } from '@libp2p/interface'
import { ConnectionPings } from '../src/connection-pings.js'

const INTERVAL_MS = 600
/** Bound on the wait for a measurement: an interval, and time for a ping on a busy machine. */
const MEASURE_LIMIT_MS = 5_000
const nodes: Libp2p[] = []
after(async () => { await Promise.all(nodes.map(async (node) => { await node.stop() })) })

async function startNode (): Promise<Libp2p> {
  const node = await createLibp2p({
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux({ enableKeepAlive: false })],
    connectionMonitor: { enabled: false }
  })
  nodes.push(node)
  return node
}

/** Polls until every connection has an rtt; resolves with when each got its first, ms. */
async function firstMeasurements (connections: Connection[], limitMs: number): Promise<number[]> {
  const at: Array<number | undefined> = connections.map(() => undefined)
  const started = performance.now()
  while (at.some((t) => t === undefined)) {
    if (performance.now() - started > limitMs) {
      throw new Error(`${at.filter((t) => t === undefined).length} of ${connections.length} connections had no round trip measured within ${limitMs} ms (interval ${INTERVAL_MS} ms)`)
    }
    connections.forEach((connection, i) => { if (at[i] === undefined && connection.rtt !== undefined) at[i] = performance.now() })
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  return at as number[]
}

test('each connection gets its round trip measured, not all in the same instant, and again an interval later', async () => {
  const a = await startNode()
  const peers = await Promise.all(Array.from({ length: 6 }, startNode))
  const connections = await Promise.all(peers.map(async (peer) => await a.dial(peer.getMultiaddrs()[0]!)))
  // Started once the six are open, as a node whose connections all opened together.
  const pings = new ConnectionPings(a, { intervalMs: INTERVAL_MS, timeoutMs: 5_000 })
  pings.start()
  assert.equal(pings.scheduled, 6, 'not every open connection has a ping scheduled')

  const first = await firstMeasurements(connections, MEASURE_LIMIT_MS)
  // Six first pings at random points of a 600 ms interval (all within 60 ms: odds about 1 in 20 000);
  // libp2p's connection monitor made them in one instant.
  const spread = Math.max(...first) - Math.min(...first)
  assert.ok(spread >= 60, `the six first round trips were measured within ${spread.toFixed(1)} ms of each other: the pings were not spread out`)
  assert.ok(connections.every((c) => Number.isFinite(c.rtt) && (c.rtt as number) >= 0), `rtt values: ${connections.map((c) => c.rtt).join(', ')}`)
  assert.deepEqual(connections.map((c) => c.streams.length), [0, 0, 0, 0, 0, 0], 'the pings opened streams')

  // A later ping measures again: clear one rtt and wait for it to come back.
  connections[0]!.rtt = undefined
  await firstMeasurements([connections[0]!], MEASURE_LIMIT_MS)

  // A connection that opens later is scheduled too; a closed one leaves the schedule; stop() empties it.
  await a.dial((await startNode()).getMultiaddrs()[0]!)
  assert.equal(pings.scheduled, 7, 'a connection opened after start() has no ping scheduled')
  await connections[1]!.close()
  assert.equal(pings.scheduled, 6, 'a closed connection still has a ping scheduled')
  pings.stop()
  assert.equal(pings.scheduled, 0, 'stop() left pings scheduled')
})
