// Catch-up on a topic (subscribe with history, and the history command)
// between compiled nodes, plus raw libp2p peers in this process that serve
// forged, altered or no history at all.
import '../src/polyfill.js'
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createLibp2p } from 'libp2p'
import { tcp } from '@libp2p/tcp'
import { noise } from '@libp2p/noise'
import { yamux } from '@libp2p/yamux'
import { identify } from '@libp2p/identify'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { RPC } from '@libp2p/gossipsub/message'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { HISTORY_PROTOCOL } from '../src/constants.js'
import { NodeProcess, eventually } from './helpers/node-process.js'

type AnyRecord = Record<string, any>

const topicMessages = (node: NodeProcess, topic: string): AnyRecord[] => node.all('message').filter((e) => e.topic === topic)

/** Waits until each node sees the other subscribed to the topic, so that publishes reach it. */
async function subscribedToEachOther (x: NodeProcess, y: NodeProcess, topic: string): Promise<void> {
  for (const [from, to] of [[x, y], [y, x]] as const) {
    await eventually(async () => {
      const { peers } = await from.ok({ type: 'peers' })
      return peers.some((peer: AnyRecord) => peer.peerId === to.peerId && peer.topics.includes(topic)) ? true : undefined
    }, `${from.label} sees ${to.label} on ${topic}`)
  }
}

/** Asserts that each origin's messages came in the order it published them (by data.n). */
function assertPublishOrder (messages: AnyRecord[]): void {
  const last = new Map<string, number>()
  for (const message of messages) {
    const previous = last.get(message.from) ?? -1
    assert.ok(message.data.n > previous, `message ${message.data.n} from ${message.from} came after ${previous}`)
    last.set(message.from, message.data.n)
  }
}

describe('catching up on a topic', () => {
  let a: NodeProcess
  let b: NodeProcess
  const late: NodeProcess[] = []

  before(async () => {
    a = await NodeProcess.start('A', { args: ['--host', '127.0.0.1'] })
    b = await NodeProcess.start('B', { args: ['--host', '127.0.0.1', '--bootstrap', a.addr] })
    for (const topic of ['news', 'ranges']) {
      await Promise.all([a.ok({ type: 'subscribe', topic }), b.ok({ type: 'subscribe', topic })])
      await subscribedToEachOther(a, b, topic)
    }
    for (let n = 0; n < 100; n++) {
      await a.ok({ type: 'publish', topic: 'news', data: { by: 'A', n } })
      await b.ok({ type: 'publish', topic: 'news', data: { by: 'B', n } })
    }
    // Late means late: gossipsub also offers a newcomer the message ids of its
    // last 3 heartbeats (3 s), which would hand some of these over live.
    await new Promise((resolve) => setTimeout(resolve, 4_000))
  })

  after(async () => {
    await Promise.all([a, b, ...late].map(async (node) => await node?.kill()))
    for (const node of [a, b, ...late]) assert.deepEqual(node?.badLines ?? [], [], `${node?.label} wrote stdout lines that are not protocol events`)
  })

  const startLate = async (label: string, bootstrap: string[]): Promise<NodeProcess> => {
    const node = await NodeProcess.start(label, { args: ['--host', '127.0.0.1', '--log-level', 'warn', '--bootstrap', ...bootstrap] })
    late.push(node)
    return node
  }

  test('a late subscriber gets the 200 earlier messages once each, in publish order, marked replayed, and the live ones once', async () => {
    const c = await startLate('C', [a.addr, b.addr])
    await c.waitFor((e) => e.type === 'peer_connected' && e.peerId === a.peerId, 'peer_connected A')
    await c.waitFor((e) => e.type === 'peer_connected' && e.peerId === b.peerId, 'peer_connected B')

    // Published while C catches up: each must arrive once, live or replayed.
    const live = (async () => {
      for (let n = 100; n < 105; n++) await a.ok({ type: 'publish', topic: 'news', data: { by: 'A', n } })
    })()
    const reply = await c.ok({ type: 'subscribe', topic: 'news', history: true })
    await live
    await eventually(() => topicMessages(c, 'news').length >= 205 ? true : undefined, 'C has the 5 live messages too')

    const messages = topicMessages(c, 'news')
    const keys = messages.map((m) => `${m.data.by}${m.data.n}`)
    assert.equal(new Set(keys).size, keys.length, 'a message was delivered twice')
    assert.equal(messages.length, 205)
    const earlier = messages.filter((m) => m.data.n < 100)
    assert.equal(earlier.length, 200)
    assert.ok(earlier.every((m) => m.replayed === true), 'an earlier message was not marked replayed')
    assert.deepEqual(new Set(earlier.map((m) => m.from)), new Set([a.peerId, b.peerId]))
    assertPublishOrder(messages.filter((m) => m.replayed === true))
    assert.ok(messages.filter((m) => m.replayed !== true).every((m) => m.data.n >= 100), 'only messages published during the catch-up may arrive live')

    assert.equal(reply.history.replayed, messages.filter((m) => m.replayed === true).length)
    assert.equal(reply.history.peers, 2)
    assert.equal(reply.history.answered, 2)
    assert.equal(reply.advertised, true)

    // Asking again replays nothing: everything was seen.
    const again = await c.ok({ type: 'history', topic: 'news' })
    assert.equal(again.replayed, 0)
    assert.equal(topicMessages(c, 'news').length, 205)
  })

  test('history takes since and limit: only the newest messages, or those received from a time on', async () => {
    for (let n = 0; n < 15; n++) await a.ok({ type: 'publish', topic: 'ranges', data: { n } })
    // A kept message 14 at or before this millisecond: `since` is the next one.
    const lastKept = Date.now()
    let since = lastKept
    while (since === lastKept) since = Date.now()
    for (let n = 15; n < 30; n++) await a.ok({ type: 'publish', topic: 'ranges', data: { n } })

    const d = await startLate('D', [a.addr])
    await d.waitFor((e) => e.type === 'peer_connected' && e.peerId === a.peerId, 'peer_connected A')
    const newest = await d.ok({ type: 'history', topic: 'ranges', limit: 10 })
    assert.equal(newest.replayed, 10)
    assert.deepEqual(topicMessages(d, 'ranges').map((m) => m.data.n), [20, 21, 22, 23, 24, 25, 26, 27, 28, 29])

    const e = await startLate('E', [a.addr])
    await e.waitFor((ev) => ev.type === 'peer_connected' && ev.peerId === a.peerId, 'peer_connected A')
    const recent = await e.ok({ type: 'history', topic: 'ranges', since })
    assert.equal(recent.replayed, 15)
    assert.deepEqual(topicMessages(e, 'ranges').map((m) => m.data.n), Array.from({ length: 15 }, (_, i) => 15 + i))
    assert.ok(topicMessages(e, 'ranges').every((m) => m.replayed === true && m.from === a.peerId))
  })

  test('a peer that never answers does not hold up the others', async () => {
    const silent = await rogue('silent')
    try {
      const f = await startLate('F', [a.addr, silent.getMultiaddrs()[0]!.toString()])
      await f.waitFor((e) => e.type === 'peer_connected' && e.peerId === a.peerId, 'peer_connected A')
      await f.waitFor((e) => e.type === 'peer_connected' && e.peerId === silent.peerId.toString(), 'peer_connected to the silent peer')
      // The catch-up may take 60 s; it must not wait for the silent peer that long.
      const reply = await f.ok({ type: 'history', topic: 'ranges', timeoutMs: 60_000 })
      // F may also have met D or E through the DHT by now; every peer but the silent one answers.
      assert.ok(reply.peers >= 2, `asked ${String(reply.peers)} peers`)
      assert.equal(reply.answered, reply.peers - 1)
      assert.equal(reply.replayed, 30)
      assert.equal(topicMessages(f, 'ranges').length, 30)
    } finally {
      await silent.stop()
    }
  })
})

describe('a peer that serves forged, altered or oversized history', () => {
  let victim: NodeProcess
  let forger: Libp2p
  let origin: PrivateKey

  before(async () => {
    victim = await NodeProcess.start('victim', { args: ['--host', '127.0.0.1', '--log-level', 'warn'] })
  })
  after(async () => {
    await victim?.kill()
    assert.deepEqual(victim?.badLines ?? [], [])
  })

  test('only the messages whose origin signed them are delivered; the peer is logged and ignored', async () => {
    origin = await generateKeyPair('Ed25519')
    forger = await rogue('forger', origin)
    try {
      const reply = await victim.ok({ type: 'connect', bootstrapPeers: [forger.getMultiaddrs()[0]!.toString()] })
      assert.deepEqual(reply.connected, [forger.peerId.toString()])
      const history = await victim.ok({ type: 'history', topic: 'rogue' })
      assert.equal(history.answered, 1)
      assert.equal(history.replayed, 3)
      const delivered = topicMessages(victim, 'rogue')
      assert.deepEqual(delivered.map((m) => m.data), ['genuine 1', 'genuine 2', 'genuine 3'])
      assert.ok(delivered.every((m) => m.from === forger.peerId.toString() && m.replayed === true))
      await victim.waitFor((e) => e.type === 'log' && e.level === 'warn' && e.message === 'ignored a peer that answered a history request with bad data' && /signature/.test(e.meta?.reason), 'a warning about the altered message')
    } finally {
      await forger.stop()
    }
  })

  test('a frame announcing 100 MB is refused before it is buffered', async () => {
    const huge = await rogue('huge')
    try {
      await victim.ok({ type: 'connect', bootstrapPeers: [huge.getMultiaddrs()[0]!.toString()] })
      const history = await victim.ok({ type: 'history', topic: 'huge' })
      assert.equal(history.replayed, 0)
      assert.equal(topicMessages(victim, 'huge').length, 0)
      await victim.waitFor((e) => e.type === 'log' && e.message === 'ignored a peer that answered a history request with bad data' && e.meta?.topic === 'huge', 'a warning about the oversized frame')
    } finally {
      await huge.stop()
    }
  })
})

describe('history under --data-dir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'p2p-node-history-'))
  const nodes: NodeProcess[] = []
  after(async () => {
    await Promise.all(nodes.map(async (node) => await node.kill()))
    for (const node of nodes) assert.deepEqual(node.badLines, [])
    rmSync(dir, { recursive: true, force: true })
  })

  test('a restarted node serves the history it kept before, under the same peer id', async () => {
    const keeper = await NodeProcess.start('keeper', { args: ['--host', '127.0.0.1', '--data-dir', dir] })
    nodes.push(keeper)
    const publisher = await NodeProcess.start('publisher', { args: ['--host', '127.0.0.1', '--bootstrap', keeper.addr] })
    nodes.push(publisher)
    await Promise.all([keeper.ok({ type: 'subscribe', topic: 'kept' }), publisher.ok({ type: 'subscribe', topic: 'kept' })])
    await subscribedToEachOther(keeper, publisher, 'kept')
    for (let n = 0; n < 20; n++) await publisher.ok({ type: 'publish', topic: 'kept', data: { n } })
    await eventually(() => topicMessages(keeper, 'kept').length === 20 ? true : undefined, 'keeper has the 20 messages')
    await publisher.ok({ type: 'shutdown' })
    await keeper.ok({ type: 'shutdown' })
    assert.equal((await keeper.waitExit()).code, 0)

    const restarted = await NodeProcess.start('restarted', { args: ['--host', '127.0.0.1', '--data-dir', dir] })
    nodes.push(restarted)
    assert.equal(restarted.peerId, keeper.peerId, 'the key is kept in the data dir')
    const reader = await NodeProcess.start('reader', { args: ['--host', '127.0.0.1', '--bootstrap', restarted.addr] })
    nodes.push(reader)
    await reader.waitFor((e) => e.type === 'peer_connected' && e.peerId === restarted.peerId, 'peer_connected to the restarted node')
    const reply = await reader.ok({ type: 'subscribe', topic: 'kept', history: true })
    assert.equal(reply.history.replayed, 20)
    const messages = topicMessages(reader, 'kept')
    assert.deepEqual(messages.map((m) => m.data.n), Array.from({ length: 20 }, (_, n) => n))
    assert.ok(messages.every((m) => m.from === publisher.peerId && m.replayed === true))
  })
})

/** A message signed the way gossipsub's StrictSign signs, in the history protocol's JSON form. */
async function signed (key: PrivateKey, topic: string, seqno: bigint, data: string, served = data): Promise<AnyRecord> {
  const from = peerIdFromPrivateKey(key)
  const seqnoBytes = new Uint8Array(8)
  new DataView(seqnoBytes.buffer).setBigUint64(0, seqno)
  const dataBytes = new TextEncoder().encode(JSON.stringify(data))
  const unsigned = RPC.Message.encode({ from: from.toMultihash().bytes, data: dataBytes, seqno: seqnoBytes, topic })
  const prefix = new TextEncoder().encode('libp2p-pubsub:')
  const signature = await key.sign(Uint8Array.from([...prefix, ...unsigned]))
  return {
    from: from.toString(),
    seqno: seqno.toString(16),
    data: Buffer.from(JSON.stringify(served)).toString('base64'),
    signature: Buffer.from(signature).toString('base64'),
    receivedAt: Date.now()
  }
}

/**
 * A raw libp2p peer serving the history protocol badly:
 * - silent: takes every request and never answers;
 * - forger: on topic "rogue", lists and serves 3 genuine messages of its own, then 3
 *   whose data it altered after signing, then 3 claiming to come from another
 *   peer (`victimOrigin`) but signed with its own key;
 * - huge: answers with a length prefix announcing 100 MB.
 */
async function rogue (mode: 'silent' | 'forger' | 'huge', victimOrigin?: PrivateKey): Promise<Libp2p> {
  const key = await generateKeyPair('Ed25519')
  const node = await createLibp2p({ privateKey: key, addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()], services: { identify: identify() } })
  const messages: AnyRecord[] = []
  if (mode === 'forger') {
    for (const n of [1, 2, 3]) messages.push(await signed(key, 'rogue', BigInt(n), `genuine ${n}`))
    for (const n of [4, 5, 6]) messages.push(await signed(key, 'rogue', BigInt(n), `original ${n}`, `altered ${n}`))
    const impostor = await signed(key, 'rogue', 7n, 'forged')
    for (const n of [1, 2, 3]) messages.push({ ...impostor, from: peerIdFromPrivateKey(victimOrigin as PrivateKey).toString(), seqno: n.toString(16) })
  }
  await node.handle(HISTORY_PROTOCOL, async (stream) => {
    if (mode === 'silent') return
    const lp = lpStream(stream)
    const request = JSON.parse(new TextDecoder().decode((await lp.read()).subarray()))
    if (mode === 'huge') {
      stream.send(Uint8Array.from([0x80, 0xc2, 0xd7, 0x2f]))
      return
    }
    if (request.want === undefined) {
      const origins = [...new Set(messages.map((m) => m.from))]
      await lp.write(new TextEncoder().encode(JSON.stringify({ origins, ids: messages.map((m) => [origins.indexOf(m.from), m.seqno, m.receivedAt]) })))
    } else {
      for (const message of messages) await lp.write(new TextEncoder().encode(JSON.stringify(message)))
    }
    await stream.close()
  })
  return node
}
