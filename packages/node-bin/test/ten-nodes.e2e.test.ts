import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { NodeProcess, eventually } from './helpers/node-process.js'

const TOPIC = 'ten-nodes'
/** The bound: every node discovers every other within this, from the moment all are subscribed. */
const DISCOVERY_BOUND_MS = 5_000

/** One --bootstrap-node and nine nodes that know only its address. */
describe('ten processes: one bootstrap node, nine regular nodes', () => {
  let boot: NodeProcess
  let nodes: NodeProcess[] = []

  before(async () => {
    boot = await NodeProcess.start('boot', { args: ['--host', '127.0.0.1', '--bootstrap-node'] })
    nodes = await Promise.all(Array.from({ length: 9 }, async (_, i) =>
      await NodeProcess.start(`n${i + 1}`, { args: ['--host', '127.0.0.1', '--log-level', 'info', '--name', `node-${i + 1}`, '--bootstrap', boot.addr] })))
  })

  after(async () => {
    await Promise.all([boot, ...nodes].map(async (node) => await node?.kill()))
    for (const node of [boot, ...nodes]) assert.deepEqual(node?.badLines ?? [], [])
  })

  test('every node discovers every other node on a shared topic within 5 s', async () => {
    // subscribe replies once the topic is advertised, or after 10 s with advertised:false and
    // keeps trying (a loaded machine can be that slow); the log event says when it succeeded.
    await Promise.all(nodes.map(async (node) => {
      await node.ok({ type: 'subscribe', topic: TOPIC }, 15_000)
      await node.waitFor((e) => e.type === 'log' && e.message === 'advertised the topic in the DHT' && e.meta?.topic === TOPIC, 'topic advertised', 30_000)
    }))
    const started = Date.now()
    await Promise.all(nodes.map(async (node) => {
      const others = nodes.filter((n) => n !== node).map((n) => n.peerId)
      const found = new Set<string>()
      while (others.some((peerId) => !found.has(peerId))) {
        const left = DISCOVERY_BOUND_MS - (Date.now() - started)
        assert.ok(left > 0, `${node.label} found ${found.size} of the 8 others within ${DISCOVERY_BOUND_MS} ms`)
        const { peers } = await node.ok({ type: 'discover', topic: TOPIC, timeoutMs: Math.max(left, 1) })
        for (const peerId of peers) found.add(peerId)
      }
      for (const peerId of others) {
        assert.ok(node.events.some((e) => e.type === 'peer_discovered' && e.peerId === peerId), `${node.label}: peer_discovered for ${peerId}`)
      }
    }))
  })

  test('a publish from any node reaches all the others', async () => {
    await Promise.all(nodes.map(async (node) => {
      await eventually(async () => {
        const { peers } = await node.ok({ type: 'peers' })
        const onTopic = peers.filter((p: any) => p.topics.includes(TOPIC)).length
        return onTopic === 8 ? true : undefined
      }, `${node.label} sees the 8 others on the topic`)
    }))
    for (const [i, node] of nodes.entries()) {
      const reply = await node.ok({ type: 'publish', topic: TOPIC, data: { from: i } })
      assert.ok(reply.recipients > 0)
    }
    await Promise.all(nodes.map(async (node, i) => {
      for (const [j, other] of nodes.entries()) {
        if (i === j) continue
        await node.waitFor((e) => e.type === 'message' && e.topic === TOPIC && e.from === other.peerId && e.data?.from === j, `${node.label} gets the publish of ${other.label}`)
      }
      assert.equal(node.all('message').filter((e) => e.topic === TOPIC).length, 8, `${node.label} got each publish once`)
    }))
  })

  test('lookup by name works from every node', async () => {
    await Promise.all(nodes.map(async (node, i) => await node.waitFor((e) => e.type === 'log' && e.meta?.name === `node-${i + 1}` && e.message === 'registered the name in the DHT', `${node.label} registered`)))
    await Promise.all(nodes.map(async (node) => {
      for (const [j, other] of nodes.entries()) {
        const found = await node.ok({ type: 'lookup', name: `node-${j + 1}` })
        assert.equal(found.peerId, other.peerId, `${node.label} looks up node-${j + 1}`)
      }
    }))
  })
})
