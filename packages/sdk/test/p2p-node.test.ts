import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { P2PNode, P2PNodeError } from '../src/index.js'
import type { MessageEvent } from '../src/index.js'

/** Two SDK nodes driving the real compiled executable on 127.0.0.1. */
describe('P2PNode with the real executable', () => {
  let alice: P2PNode
  let bob: P2PNode

  before(async () => {
    alice = new P2PNode({ name: 'alice', host: '127.0.0.1' })
    const info = await alice.start()
    assert.match(info.peerId, /^12D3KooW/)
    assert.equal(alice.state, 'running')
    bob = new P2PNode({ name: 'bob', host: '127.0.0.1' })
    await bob.start()
  })

  after(async () => {
    await Promise.all([alice?.stop(), bob?.stop()])
  })

  test('start resolves with the peer id and addresses from ready', () => {
    assert.equal(alice.peerId?.startsWith('12D3KooW'), true)
    assert.ok(alice.addrs.every((addr) => addr.startsWith('/ip4/127.0.0.1/tcp/') && addr.endsWith(`/p2p/${alice.peerId as string}`)))
    assert.equal(typeof alice.pid, 'number')
  })

  test('connect dials bootstrap peers; peer_connected is emitted', async () => {
    const connected = once(alice, 'peer_connected')
    const result = await bob.connect([alice.addrs[0] as string])
    assert.deepEqual(result.connected, [alice.peerId])
    assert.equal(result.peerId, bob.peerId)
    const [event] = await connected
    assert.equal(event.peerId, bob.peerId)
  })

  test('send resolves after delivery; the receiver gets a message event and an iterator item', async () => {
    const direct = alice.messages({ topic: null })
    const received = once(alice, 'message')
    const result = await bob.send(alice.peerId as string, { text: 'hi alice' })
    assert.deepEqual(result, { peerId: alice.peerId })
    const [event] = await received
    assert.equal(event.from, bob.peerId)
    assert.deepEqual(event.data, { text: 'hi alice' })
    const { value } = await direct.next()
    assert.deepEqual(value?.data, { text: 'hi alice' })
    await direct.return?.()
  })

  test('subscribe with a handler, publish, and messages() filtered by topic', async () => {
    const topic = 'sdk-news'
    const handled: MessageEvent[] = []
    const gotIt = new Promise<void>((resolve) => {
      void bob.subscribe(topic, (message) => { handled.push(message); resolve() }).then((result) => {
        assert.equal(result.topic, topic)
      })
    })
    const stream = bob.messages({ topic })
    // Bob's subscription reaches alice over gossipsub; NO_PEERS_SUBSCRIBED until it has.
    let published
    for (const deadline = Date.now() + 10_000; published === undefined;) {
      published = await alice.publish(topic, { n: 1 }).catch(async (err: P2PNodeError) => {
        assert.equal(err.code, 'NO_PEERS_SUBSCRIBED')
        if (Date.now() > deadline) throw err
        await new Promise((resolve) => setTimeout(resolve, 50))
        return undefined
      })
    }
    assert.equal(published.recipients, 1)
    await gotIt
    assert.deepEqual(handled.map((m) => m.data), [{ n: 1 }])
    const { value } = await stream.next()
    assert.equal(value?.topic, topic)
    assert.equal(value?.from, alice.peerId)
    await stream.return?.()
  })

  test('subscribe with history: a newcomer gets what was published before, once each; history() replays nothing more', async () => {
    // bob received {n: 1} on sdk-news in the test above, and keeps it in his history.
    const carol = new P2PNode({ host: '127.0.0.1' })
    try {
      await carol.start()
      const connected = await carol.connect([bob.addrs[0] as string])
      assert.deepEqual(connected.connected, [bob.peerId])
      const handled: MessageEvent[] = []
      const result = await carol.subscribe('sdk-news', (message) => { handled.push(message) }, { history: true })
      assert.deepEqual(handled.map((m) => m.data), [{ n: 1 }])
      assert.equal(handled[0]?.from, alice.peerId)
      // Gossipsub may hand a message this recent over live, before the catch-up does.
      assert.equal(result.history?.replayed, handled.filter((m) => m.replayed === true).length)
      assert.equal(result.history?.answered, 1)
      const again = await carol.history('sdk-news', { limit: 10 })
      assert.equal(again.replayed, 0)
      assert.equal(handled.length, 1)
    } finally {
      await carol.stop()
    }
  })

  test('discover finds a subscriber; peer_discovered is emitted', async () => {
    const topic = 'sdk-discover'
    await alice.subscribe(topic)
    const discovered = once(bob, 'peer_discovered')
    const result = await bob.discover(topic)
    assert.deepEqual(result.peers, [alice.peerId])
    const [event] = await discovered
    assert.equal(event.peerId, alice.peerId)
    assert.ok(event.topics.includes(topic))
  })

  test('peers lists the connection', async () => {
    const { peers } = await bob.peers()
    assert.ok(peers.some((p) => p.peerId === alice.peerId))
  })

  test('request/reply: onRequest answers, request resolves with the answer', async () => {
    alice.onRequest(async (data, from) => ({ echo: data, from }))
    const answer = await bob.request(alice.peerId as string, { ping: 1 })
    assert.deepEqual(answer, { echo: { ping: 1 }, from: bob.peerId })
  })

  test('request by name: the answer comes back from the peer the name resolved to', async () => {
    // alice registers her name once the DHT has a peer; nothing announces when it is readable elsewhere.
    const deadline = Date.now() + 15_000
    while (true) {
      const found = await bob.lookup('alice').catch((err: P2PNodeError) => err)
      if (!(found instanceof P2PNodeError)) break
      assert.equal(found.code, 'NOT_FOUND')
      assert.ok(Date.now() < deadline, 'alice\'s name became readable within 15 s')
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    alice.onRequest(async (data) => ({ byName: data }))
    assert.deepEqual(await bob.request('alice', 'hi', { timeoutMs: 10_000 }), { byName: 'hi' })
  })

  test('a listener that throws is reported as HANDLER_FAILED and the node keeps working', async () => {
    const reported = once(alice, 'error')
    const thrower = (): void => { throw new Error('listener bug') }
    alice.on('message', thrower)
    try {
      await bob.send(alice.peerId as string, 'trigger')
      const [err] = await reported
      assert.equal(err.code, 'HANDLER_FAILED')
      assert.match(err.message, /listener bug/)
      assert.ok(Array.isArray((await alice.peers()).peers))
    } finally {
      alice.off('message', thrower)
    }
  })

  test('request to a handler that throws rejects with REMOTE_HANDLER_FAILED and its message', async () => {
    bob.onRequest(() => { throw new Error('not today') })
    await assert.rejects(alice.request(bob.peerId as string, 'anything'), (err: P2PNodeError) => {
      assert.equal(err.code, 'REMOTE_HANDLER_FAILED')
      assert.match(err.message, /not today/)
      return true
    })
  })

  test('node errors reject with a typed error carrying the protocol code', async () => {
    await assert.rejects(bob.send('not a peer id!', 1), (err: unknown) => {
      assert.ok(err instanceof P2PNodeError)
      assert.equal(err.code, 'INVALID_PEER_ID')
      return true
    })
  })

  test('an aborted signal rejects with ABORTED', async () => {
    await assert.rejects(bob.peers({ signal: AbortSignal.abort() }), { code: 'ABORTED' })
  })

  test('unsubscribe resolves with the topic', async () => {
    assert.deepEqual(await bob.unsubscribe('sdk-news'), { topic: 'sdk-news' })
  })

  test('a port in use: start rejects with PORT_IN_USE', async () => {
    const port = Number(/\/tcp\/(\d+)\//.exec(alice.addrs[0] as string)?.[1])
    await assert.rejects(new P2PNode({ host: '127.0.0.1', port }).start(), (err: P2PNodeError) => {
      assert.equal(err.code, 'PORT_IN_USE')
      assert.match(err.message, new RegExp(String(port)))
      return true
    })
  })

  test('stop resolves once the child exited; iterators end; calls reject NOT_RUNNING', async () => {
    const carol = new P2PNode({ host: '127.0.0.1' })
    await carol.start()
    const pid = carol.pid as number
    const iterator = carol.messages()
    const ended = iterator.next()
    const exit = once(carol, 'exit')
    await carol.stop()
    assert.equal(carol.state, 'stopped')
    const [{ code }] = await exit
    assert.equal(code, 0)
    assert.throws(() => process.kill(pid, 0), { code: 'ESRCH' })
    assert.deepEqual(await ended, { value: undefined, done: true })
    await assert.rejects(carol.peers(), { code: 'NOT_RUNNING' })
    await carol.stop()
  })
})
