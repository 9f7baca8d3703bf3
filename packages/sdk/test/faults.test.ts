import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { once } from 'node:events'
import { P2PNode, P2PNodeError } from '../src/index.js'

/** Faults that are hard to cause with the real executable, played by a scripted fake. */
const FAKE = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'fake-sidecar.mjs')

function fake (mode: string, init: ConstructorParameters<typeof P2PNode>[0] = {}): P2PNode {
  return new P2PNode({ binaryPath: FAKE, ...init, env: { FAKE_MODE: mode, ...init.env } })
}

async function rejection (promise: Promise<unknown>): Promise<P2PNodeError> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof P2PNodeError, `expected a P2PNodeError, got ${String(err)}`)
    return err
  }
  assert.fail('expected the promise to reject')
}

describe('P2PNode against a scripted fake sidecar', () => {
  test('no ready within startTimeoutMs: START_TIMEOUT with the stderr tail, and the child is killed', async () => {
    const node = fake('no-ready', { startTimeoutMs: 300 })
    const error = await rejection(node.start())
    assert.equal(error.code, 'START_TIMEOUT')
    assert.match(error.stderr ?? '', /still warming up/)
    assert.equal(node.state, 'stopped')
    assert.equal(node.pid, undefined)
  })

  test('exit before ready: NODE_EXITED with the stderr tail', async () => {
    const error = await rejection(fake('exit-before-ready').start())
    assert.equal(error.code, 'NODE_EXITED')
    assert.match(error.message, /code 3/)
    assert.match(error.stderr ?? '', /flux capacitor/)
  })

  test('a binary that does not exist: NODE_EXITED naming the spawn failure', async () => {
    const error = await rejection(new P2PNode({ binaryPath: '/nonexistent/p2p-node' }).start())
    assert.equal(error.code, 'NODE_EXITED')
    assert.match(error.message, /ENOENT/)
  })

  test('child crash mid-request: every pending call rejects at once with NODE_EXITED', async () => {
    const node = fake('crash-on-send')
    await node.start()
    const exit = once(node, 'exit')
    const pending = [
      rejection(node.send('12D3KooWPeer', { hello: 1 }, { timeoutMs: 60_000 })),
      rejection(node.request('12D3KooWPeer', 'ping', { timeoutMs: 60_000 }))
    ]
    const started = Date.now()
    for (const error of await Promise.all(pending)) {
      assert.equal(error.code, 'NODE_EXITED')
      assert.match(error.stderr ?? '', /crashing mid-send/)
    }
    assert.ok(Date.now() - started < 30_000, 'rejected by the exit, not by the 60 s timeout')
    await exit
    assert.equal(node.state, 'stopped')
    assert.equal((await rejection(node.peers())).code, 'NOT_RUNNING')
  })

  test('a malformed stdout line is reported through error, never thrown', async () => {
    const node = fake('bad-line')
    const errors: P2PNodeError[] = []
    node.on('error', (err) => { errors.push(err) })
    await node.start()
    assert.deepEqual(await node.peers(), { peers: [] })
    assert.equal(errors.length, 2)
    assert.ok(errors.every((e) => e.code === 'INVALID_EVENT'))
    assert.match(errors[0]?.message ?? '', /this is not json/)
    await node.stop()
  })

  test('without an error listener, a malformed line does not throw either', async () => {
    const node = fake('bad-line')
    await node.start()
    assert.deepEqual(await node.peers(), { peers: [] })
    await node.stop()
  })

  test('restart: the child is restarted with backoff, its topics re-subscribed, restarted emitted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'p2p-node-restart-'))
    try {
      const log = join(dir, 'commands.log')
      const node = fake('crash-once', { restart: { maxAttempts: 3, initialDelayMs: 50 }, env: { FAKE_LOG: log, FAKE_MARKER: join(dir, 'marker') } })
      await node.start()
      const firstPid = node.pid
      const restarted = once(node, 'restarted')
      await node.subscribe('jobs')
      const [info] = await restarted
      assert.equal(info.attempt, 1)
      assert.equal(node.state, 'running')
      assert.notEqual(node.pid, firstPid)
      const subscribes = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line)).filter((c) => c.type === 'subscribe')
      assert.deepEqual(subscribes.map((c) => c.topic), ['jobs', 'jobs'])
      await node.stop()
      assert.equal(node.state, 'stopped')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('restart gives up after maxAttempts and ends stopped', async () => {
    const node = fake('normal', { restart: { maxAttempts: 2, initialDelayMs: 10 } })
    await node.start()
    const gaveUp = new Promise<P2PNodeError>((resolve) => {
      node.on('error', (err) => { if (/gave up/.test(err.message)) resolve(err) })
    })
    // From now on every spawn fails.
    ;(node as any).init.binaryPath = '/nonexistent/p2p-node'
    process.kill(node.pid as number, 'SIGKILL')
    assert.match((await gaveUp).message, /gave up after 2 restart attempts/)
    assert.equal(node.state, 'stopped')
  })

  test('stop escalates to SIGKILL when the child ignores shutdown, stdin EOF and SIGTERM', async () => {
    const node = fake('stubborn', { stopGraceMs: 200 })
    await node.start()
    const exit = once(node, 'exit')
    await node.stop()
    const [{ signal }] = await exit
    assert.equal(signal, 'SIGKILL')
    assert.equal(node.state, 'stopped')
  })

  test('request() timing out while its send is pending rejects REQUEST_TIMEOUT, with no unhandled rejection', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (reason: unknown): void => { unhandled.push(reason) }
    process.on('unhandledRejection', onUnhandled)
    try {
      const node = fake('silent-send', { requestTimeoutMs: 200 })
      await node.start()
      assert.equal((await rejection(node.request('12D3KooWPeer', 'hello?'))).code, 'REQUEST_TIMEOUT')
      await node.stop()
      await new Promise((resolve) => setImmediate(resolve))
      assert.deepEqual(unhandled, [])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  test('data that cannot be sent is refused before anything is written', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'p2p-node-refuse-'))
    try {
      const log = join(dir, 'commands.log')
      const node = fake('normal', { env: { FAKE_LOG: log } })
      await node.start()
      assert.equal((await rejection(node.send('12D3KooWPeer', { n: 1n } as never))).code, 'INVALID_COMMAND')
      assert.equal((await rejection(node.publish('t', 'x'.repeat(2 * 1024 * 1024)))).code, 'LINE_TOO_LONG')
      assert.equal((await rejection(node.peers({ signal: AbortSignal.abort() }))).code, 'ABORTED')
      await node.peers()
      const written = readFileSync(log, 'utf8').trim().split('\n').map((line) => JSON.parse(line).type)
      assert.deepEqual(written, ['peers'])
      await node.stop()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('stop() during start(): start rejects NOT_RUNNING and the node ends stopped', async () => {
    const node = fake('normal')
    const starting = rejection(node.start())
    await node.stop()
    assert.equal((await starting).code, 'NOT_RUNNING')
    assert.equal(node.state, 'stopped')
    assert.equal(node.pid, undefined)
  })

  test('a shutdown sent through call() is not mistaken for a crash when restart is on', async () => {
    const node = fake('normal', { restart: { initialDelayMs: 10 } })
    await node.start()
    const exit = once(node, 'exit')
    await node.call({ type: 'shutdown' })
    await exit
    assert.equal(node.state, 'stopped')
  })

  test('an aborted call rejects with ABORTED; a call without a reply with REQUEST_TIMEOUT', async () => {
    const node = fake('stubborn', { stopGraceMs: 100 })
    await node.start()
    const controller = new AbortController()
    const aborted = rejection(node.call({ type: 'shutdown' }, { signal: controller.signal }))
    controller.abort()
    assert.equal((await aborted).code, 'ABORTED')
    assert.equal((await rejection(node.call({ type: 'shutdown' }, { timeoutMs: 100 }))).code, 'REQUEST_TIMEOUT')
    await node.stop()
  })
})
