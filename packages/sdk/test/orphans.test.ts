import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const PARENT = join(here, 'fixtures', 'parent.mts')
const ROOT = join(here, '..', '..', '..')

function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/**
 * The child is not ours but the parent's, so no exit event reaches this
 * process: poll its pid, with a bound.
 */
async function gone (pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (alive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL')
      assert.fail(`the node (pid ${pid}) was still running ${timeoutMs} ms after its parent died`)
    }
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

const endings: Array<[string, string, NodeJS.Signals | undefined]> = [
  ['calls process.exit()', 'exit', undefined],
  ['dies of an uncaught exception', 'throw', undefined],
  ['is killed with SIGTERM', 'wait', 'SIGTERM'],
  ['is killed with SIGINT', 'wait', 'SIGINT'],
  ['is killed with SIGKILL', 'wait', 'SIGKILL']
]

for (const [what, how, signal] of endings) {
  test(`no node process remains after the parent ${what}`, async () => {
    const parent = spawn(process.execPath, ['--import', 'tsx', PARENT, how], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    parent.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
    const exited = once(parent, 'exit')
    const [line] = await Promise.race([
      once(createInterface({ input: parent.stdout }), 'line'),
      exited.then(() => { throw new Error(`parent exited before starting its node: ${stderr}`) })
    ]) as [string]
    const { pid } = JSON.parse(line) as { pid: number }
    assert.ok(alive(pid))
    if (signal !== undefined) parent.kill(signal)
    await exited
    await gone(pid, 5_000)
  })
}
