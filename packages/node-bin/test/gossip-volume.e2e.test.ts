// Gossipsub at volume: 10 nodes on 127.0.0.1, one publisher writing a burst
// of publish lines, eight subscribers that must each get every message once.
// CI runs 2 000 publishes; the full run of the reliability issue is
//   P2P_DELIVERY_PUBLISHES=10000 node --import tsx --test packages/node-bin/test/gossip-volume.e2e.test.ts
// (it used to lose messages: see docs/protocol.md, Gossipsub).
import { after, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { NodeProcess, eventually } from './helpers/node-process.js'

const PUBLISHES = Number(process.env.P2P_DELIVERY_PUBLISHES ?? 2_000)
const LOCAL = ['--host', '127.0.0.1']

describe('gossipsub at volume', () => {
  const nodes: NodeProcess[] = []
  after(async () => {
    await Promise.all(nodes.map(async (node) => await node.kill()))
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
