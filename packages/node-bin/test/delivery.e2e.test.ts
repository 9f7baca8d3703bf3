import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { NodeProcess, eventually } from './helpers/node-process.js'

/**
 * Delivery at volume. CI runs the short version; `scripts/soak.mjs` (or the
 * environment variables) runs the full one: P2P_DELIVERY_SENDS=100000,
 * P2P_DELIVERY_PUBLISHES=10000.
 */
const SENDS = Number(process.env.P2P_DELIVERY_SENDS ?? 20_000)
const PUBLISHES = Number(process.env.P2P_DELIVERY_PUBLISHES ?? 2_000)
/** How many sends a client keeps in flight, as a client of a reliable channel does. */
const IN_FLIGHT = 1_000
const LOCAL = ['--host', '127.0.0.1']

describe('delivery at volume', () => {
  const nodes: NodeProcess[] = []
  after(async () => {
    await Promise.all(nodes.map(async (node) => await node.kill()))
    for (const node of nodes) assert.deepEqual(node.badLines, [], `${node.label} wrote non-protocol stdout`)
  })

  test(`${SENDS} direct sends A→B: every one acknowledged, received exactly once and in order`, async () => {
    const b = await NodeProcess.start('B', { args: LOCAL })
    const a = await NodeProcess.start('A', { args: [...LOCAL, '--bootstrap', b.addr] })
    nodes.push(a, b)
    a.keepEvents = false
    b.keepEvents = false
    let expected = 0
    let misordered = 0
    b.listeners.add((e) => {
      if (e.type !== 'message') return
      if (e.data !== expected) misordered++
      expected = (e.data as number) + 1
    })
    let acked = 0
    let sent = 0
    const failures: Record<string, any>[] = []
    const pump = (): void => {
      for (; sent < Math.min(SENDS, acked + failures.length + IN_FLIGHT); sent++) {
        a.write(JSON.stringify({ type: 'send', id: sent, peerId: b.peerId, data: sent, timeoutMs: 60_000 }) + '\n')
      }
    }
    const allAnswered = new Promise<void>((resolve) => {
      a.listeners.add((e) => {
        if (e.type === 'result' && e.command === 'send') acked++
        else if (e.type === 'error') failures.push(e)
        if (acked + failures.length === SENDS) resolve()
        else pump()
      })
    })
    pump()
    await Promise.race([allAnswered, a.exited.then(() => { throw new Error('A exited') })])
    assert.deepEqual(failures.slice(0, 3), [])
    assert.equal(acked, SENDS)
    await eventually(() => expected === SENDS ? true : undefined, `B received all ${SENDS} (has ${expected})`, 30_000)
    assert.equal(misordered, 0, 'received in order, none twice')
  })

  test(`gossipsub, 10 nodes, ${PUBLISHES} publishes: every subscriber receives every message exactly once`, async () => {
    const boot = await NodeProcess.start('g-boot', { args: [...LOCAL, '--bootstrap-node'] })
    const members = await Promise.all(Array.from({ length: 9 }, async (_, i) => await NodeProcess.start(`g${i}`, { args: [...LOCAL, '--bootstrap', boot.addr] })))
    nodes.push(boot, ...members)
    const topic = 'volume'
    await Promise.all(members.map(async (node) => await node.ok({ type: 'subscribe', topic }, 15_000)))
    // The publisher needs every subscription to have reached it; nothing announces that, so ask.
    const [publisher, ...subscribers] = members as [NodeProcess, ...NodeProcess[]]
    await Promise.all(subscribers.map(async (node) => await node.ok({ type: 'discover', topic, timeoutMs: 10_000 }, 15_000)))
    await eventually(async () => {
      const { peers } = await publisher.ok({ type: 'peers' })
      return peers.filter((p: any) => p.topics.includes(topic)).length === subscribers.length ? true : undefined
    }, 'the publisher sees all 8 subscribers', 20_000)

    const counts = subscribers.map(() => new Map<number, number>())
    subscribers.forEach((node, k) => {
      node.keepEvents = false
      node.listeners.add((e) => {
        if (e.type === 'message' && e.topic === topic) counts[k]?.set(e.data as number, (counts[k]?.get(e.data as number) ?? 0) + 1)
      })
    })
    publisher.keepEvents = false
    let answered = 0
    const failed: Record<string, any>[] = []
    const done = new Promise<void>((resolve) => {
      publisher.listeners.add((e) => {
        if (e.type === 'result' && e.command === 'publish') answered++
        else if (e.type === 'error') failed.push(e)
        if (answered + failed.length === PUBLISHES) resolve()
      })
    })
    for (let i = 0; i < PUBLISHES; i++) publisher.write(JSON.stringify({ type: 'publish', id: i, topic, data: i }) + '\n')
    await done
    assert.deepEqual(failed.slice(0, 3), [])
    await Promise.all(subscribers.map(async (node, k) => {
      await eventually(() => counts[k]?.size === PUBLISHES ? true : undefined, `${node.label} received all ${PUBLISHES} (has ${counts[k]?.size})`, 60_000)
      assert.ok([...(counts[k]?.values() ?? [])].every((n) => n === 1), `${node.label} received each message once`)
    }))
  })
})
