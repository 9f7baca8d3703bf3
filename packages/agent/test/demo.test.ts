import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const dist = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist')

test('pnpm run demo: three agents meet each other and every request gets its reply', () => {
  const run = spawnSync(process.execPath, [join(dist, 'demo.js')], { encoding: 'utf8', timeout: 90_000 })
  assert.equal(run.status, 0, `demo failed:\n${run.stdout}\n${run.stderr}`)
  const names = ['alice', 'bob', 'carol']
  for (const agent of names) {
    for (const other of names.filter((n) => n !== agent)) {
      assert.match(run.stdout, new RegExp(`^${agent} +met ${other} \\(`, 'm'), `${agent} saw ${other}`)
    }
  }
  for (const [from, to] of [['alice', 'bob'], ['bob', 'carol'], ['carol', 'alice']]) {
    assert.match(run.stdout, new RegExp(`^${from} +→ ${to}: ping answered with pong from ${to} in`, 'm'), `${from} → ${to} answered`)
  }
  assert.match(run.stdout, /3 of 3 requests answered/)
  assert.match(run.stdout, /all agents stopped/)
})

test('the agent CLI starts, and SIGINT stops it cleanly with exit 0', async () => {
  const agent = spawn(process.execPath, [join(dist, 'cli.js'), '--', '--name', 'solo', '--host', '127.0.0.1'], { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines = createInterface({ input: agent.stdout })
  const exited = once(agent, 'exit')
  const ready = new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => { if (line.startsWith('solo: ready as 12D3KooW')) resolve(line) })
    setTimeout(() => { reject(new Error('the agent did not print ready within 15 s')) }, 15_000).unref()
  })
  await ready
  agent.kill('SIGINT')
  const [code] = await exited
  assert.equal(code, 0)
})
