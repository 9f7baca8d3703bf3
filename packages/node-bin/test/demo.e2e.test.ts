import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const script = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'scripts', 'two-nodes.mjs')

test('the README quick-start demo exchanges a direct and a pub/sub message and exits 0', () => {
  const run = spawnSync(process.execPath, [script], { encoding: 'utf8', timeout: 60_000 })
  assert.equal(run.status, 0, `demo failed:\n${run.stdout}\n${run.stderr}`)
  assert.match(run.stdout, /bob +→ alice \(direct\): acknowledged/)
  assert.match(run.stdout, /alice +← bob \(direct\): \{"text":"hi alice, bob here"\}/)
  assert.match(run.stdout, /alice +→ "lobby": published to 1 peer/)
  assert.match(run.stdout, /bob +← "lobby" from alice: \{"text":"welcome to the lobby"\}/)
  assert.match(run.stdout, /stopped, exit codes 0 and 0/)
})
