import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync, spawnSync } from 'node:child_process'
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as delay } from 'node:timers/promises'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { BINARY, NodeProcess, isAlive } from './helpers/node-process.js'

/** The spec's bound on every way of stopping the node. */
const STOP_BOUND_MS = 2_000
/** How long after its launch a node is kept from arming its first timer, ms. */
const LATE_START_MS = 25_000

describe('stopping', () => {
  const ways: Array<[string, (node: NodeProcess) => void]> = [
    ['the shutdown command', (node) => { node.write('{"type":"shutdown","id":"bye"}\n') }],
    ['stdin EOF', (node) => { node.proc.stdin.end() }],
    ['SIGTERM', (node) => { node.proc.kill('SIGTERM') }],
    ['SIGINT', (node) => { node.proc.kill('SIGINT') }]
  ]
  for (const [how, stop] of ways) {
    test(`${how} exits 0 within 2 s and leaves no process behind`, async () => {
      const node = await NodeProcess.start(how)
      await node.ok({ type: 'subscribe', topic: 'busy' })
      // A lone node's DHT lookup waits for a peer: still running when the node stops.
      node.write('{"type":"discover","id":"in-flight","topic":"busy","timeoutMs":60000}\n')
      stop(node)
      const { code, signal } = await node.waitExit(STOP_BOUND_MS)
      assert.equal(signal, null)
      assert.equal(code, 0)
      assert.equal(isAlive(node.proc.pid as number), false)
      assert.deepEqual(node.badLines, [])
      const inFlight = node.events.filter((e) => e.id === 'in-flight')
      assert.equal(inFlight.length, 1, `the command in flight gets exactly one reply: ${JSON.stringify(inFlight)}`)
      assert.ok(inFlight[0]?.type === 'result' || inFlight[0]?.code === 'SHUTTING_DOWN', JSON.stringify(inFlight[0]))
      if (how === 'the shutdown command') {
        const reply = node.events.find((e) => e.id === 'bye')
        assert.deepEqual(reply, { type: 'result', id: 'bye', command: 'shutdown' })
      }
    })
  }

  test('a node whose parent stopped reading stdout still stops on SIGTERM within 2 s', async () => {
    const node = await NodeProcess.start('unread')
    node.proc.stdout.pause()
    // Far more replies than the pipe holds: the node's stdout fills up and it stops reading stdin.
    const burst = '{"type":"peers"}\n'.repeat(50_000)
    node.proc.stdin.write(burst)
    // No event says "your stdout is full" (the reader is us, and we stopped): give the pipe time to fill.
    await new Promise((resolve) => setTimeout(resolve, 500))
    node.proc.kill('SIGTERM')
    const { code } = await node.waitExit(STOP_BOUND_MS)
    assert.equal(code, 0)
    node.proc.stdout.resume()
  })

  test('commands sent after shutdown began are refused with SHUTTING_DOWN or never started', async () => {
    const node = await NodeProcess.start('late')
    node.write('{"type":"shutdown","id":1}\n{"type":"peers","id":2}\n')
    assert.equal((await node.waitExit(STOP_BOUND_MS)).code, 0)
    const late = node.events.find((e) => e.id === 2)
    assert.equal(late?.type, 'error')
    assert.equal(late?.code, 'SHUTTING_DOWN')
  })
})

describe('starting', () => {
  test('a run from start to shutdown writes nothing to stderr (no runtime warning, such as a rejected startup snapshot)', async () => {
    const node = await NodeProcess.start('quiet', { args: ['--host', '127.0.0.1'] })
    await node.ok({ type: 'shutdown' })
    assert.equal((await node.waitExit()).code, 0)
    assert.equal(node.stderr, '')
  })

  test('a parent that closed its end of stderr still gets a working node (DEBUG logging on)', async () => {
    const node = new NodeProcess('no-stderr', { env: { ...process.env, DEBUG: 'libp2p:*' } })
    // Every debug line the node writes now fails with EPIPE.
    node.proc.stderr.destroy()
    try {
      await node.waitFor((e) => e.type === 'ready', 'ready')
      assert.ok(Array.isArray((await node.ok({ type: 'peers' })).peers))
      await node.ok({ type: 'shutdown' })
      assert.equal((await node.waitExit(STOP_BOUND_MS)).code, 0)
    } finally {
      await node.kill()
    }
  })

  // The executable starts from a startup snapshot taken after one start and
  // stop. Timer lists left in it (the stop's grace timer; the 20 s timer of
  // an AbortSignal.timeout that outlived its operation) made Node believe a
  // wake-up was booked at the build's clock time, so a node that armed its
  // first timer later than that never ran a timer: under load, the last of 50
  // nodes started together never answered subscribe. 25 s is past both
  // lists' expiries (3.2 s and 21.7 s).
  test('a node that starts late still runs its timers (nothing pending in the startup snapshot)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'p2p-node-late-'))
    const keyFile = join(dir, 'key')
    // The node blocks reading its key from this FIFO until the test writes it.
    execFileSync('mkfifo', ['-m', '600', keyFile])
    const silent = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    const port = (silent.address() as { port: number }).port
    const node = new NodeProcess('late', { args: ['--host', '127.0.0.1', '--key-file', keyFile] })
    try {
      // The delay is the condition under test, not a wait for an event.
      await delay(LATE_START_MS)
      await writeFile(keyFile, privateKeyToProtobuf(await generateKeyPair('Ed25519')))
      await node.waitFor((e) => e.type === 'ready', 'ready')
      // Only a timer ends this dial: the peer accepts the connection and never speaks.
      const stranger = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
      const reply = await node.request({ type: 'connect', bootstrapPeers: [`/ip4/127.0.0.1/tcp/${port}/p2p/${stranger}`], timeoutMs: 500 }, 5_000)
      assert.equal(reply.code, 'TIMEOUT', JSON.stringify(reply))
      await node.ok({ type: 'shutdown' })
      assert.equal((await node.waitExit(STOP_BOUND_MS)).code, 0)
    } finally {
      await node.kill()
      silent.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('a port already in use is PORT_IN_USE on stdout and exit code 1', async () => {
    const server = createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const port = (server.address() as { port: number }).port
    try {
      const node = new NodeProcess('busy-port', { args: ['--host', '127.0.0.1', '-p', String(port)] })
      const { code } = await node.waitExit()
      assert.equal(code, 1)
      assert.equal(node.events.length, 1, JSON.stringify(node.events))
      assert.equal(node.events[0]?.type, 'error')
      assert.equal(node.events[0]?.code, 'PORT_IN_USE')
      assert.match(node.events[0]?.message, new RegExp(String(port)))
    } finally {
      server.close()
    }
  })

  test('bad flags exit 2 with usage on stderr and nothing on stdout', () => {
    for (const args of [['--port', 'abc'], ['--port', '-1'], ['--port', '70000'], ['--no-such-flag'], ['--log-level', 'loud'], ['--bootstrap', 'nonsense'], ['--bootstrap', '/'], ['--max-line-bytes', '0'], ['--history-size', '-1'], ['--history-ttl', '0'], ['extra-argument']]) {
      const run = spawnSync(BINARY, args, { encoding: 'utf8', timeout: 10_000 })
      assert.equal(run.status, 2, `${args.join(' ')}: ${run.stderr}`)
      assert.equal(run.stdout, '', args.join(' '))
      assert.match(run.stderr, /--help/, args.join(' '))
    }
  })

  test('a --data-dir that cannot be created exits 2 with the reason on stderr', () => {
    const dir = mkdtempSync(join(tmpdir(), 'p2p-node-datadir-'))
    try {
      const file = join(dir, 'a-file')
      writeFileSync(file, 'not a directory')
      const run = spawnSync(BINARY, ['--host', '127.0.0.1', '--data-dir', join(file, 'sub')], { encoding: 'utf8', timeout: 10_000 })
      assert.equal(run.status, 2, run.stderr)
      assert.equal(run.stdout, '')
      assert.match(run.stderr, /--data-dir .*a-file\/sub/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('--version and --help print to stdout and exit 0', () => {
    const version = spawnSync(BINARY, ['--version'], { encoding: 'utf8', timeout: 10_000 })
    assert.equal(version.status, 0)
    assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/)
    const help = spawnSync(BINARY, ['--help'], { encoding: 'utf8', timeout: 10_000 })
    assert.equal(help.status, 0)
    for (const flag of ['--port', '--name', '--env-file', '--bootstrap', '--log-level', '--max-line-bytes', '--host']) assert.ok(help.stdout.includes(flag), flag)
  })

  test('settings come from the environment and the -e file; flags win', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'p2p-node-env-'))
    try {
      const envFile = join(dir, '.env.agent')
      writeFileSync(envFile, '# agent settings\nP2P_NAME=from-file\nP2P_HOST=127.0.0.1\nP2P_LOG_LEVEL=info\n')
      const fromFile = await NodeProcess.start('env-file', { args: ['-e', envFile] })
      assert.equal(fromFile.ready.name, 'from-file')
      assert.ok(fromFile.ready.addrs.every((a) => a.startsWith('/ip4/127.0.0.1/')))
      await fromFile.kill()

      const fromEnv = await NodeProcess.start('env', { args: ['-e', envFile], env: { ...process.env, P2P_NAME: 'from-env' } })
      assert.equal(fromEnv.ready.name, 'from-env')
      await fromEnv.kill()

      const fromFlag = await NodeProcess.start('flag', { args: ['-e', envFile, '-n', 'from-flag'], env: { ...process.env, P2P_NAME: 'from-env' } })
      assert.equal(fromFlag.ready.name, 'from-flag')
      await fromFlag.kill()

      const missing = spawnSync(BINARY, ['-e', join(dir, 'missing.env')], { encoding: 'utf8', timeout: 10_000 })
      assert.equal(missing.status, 2)
      assert.match(missing.stderr, /missing\.env/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('the executable works copied alone into an empty folder, without Node on PATH', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'p2p-node-alone-'))
    try {
      const copy = join(dir, 'p2p-node')
      copyFileSync(BINARY, copy)
      const node = await NodeProcess.start('alone', { binary: copy, cwd: dir, env: { PATH: '/nonexistent' } })
      assert.equal(node.ready.protocolVersion, 1)
      node.proc.stdin.end()
      assert.equal((await node.waitExit(STOP_BOUND_MS)).code, 0)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
