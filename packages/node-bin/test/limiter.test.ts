import { test } from 'node:test'
import assert from 'node:assert/strict'
import { Limiter } from '../src/limiter.js'

/** A task that runs until its `finish` is called, noting its start and end in `log`. */
function task (log: string[], name: string): { run: () => Promise<string>, finish: () => void, fail: (err: Error) => void } {
  let finish = (): void => {}
  let fail = (_err: Error): void => {}
  const done = new Promise<string>((resolve, reject) => {
    finish = () => { resolve(name) }
    fail = reject
  })
  return {
    run: async () => {
      log.push(`start ${name}`)
      try { return await done } finally { log.push(`end ${name}`) }
    },
    finish: () => { finish() },
    fail: (err) => { fail(err) }
  }
}

/** Lets every settled promise run its continuations. */
const settle = async (): Promise<void> => { await new Promise(setImmediate) }

test('runs at most `concurrency` tasks at a time, the others in the order they came', async () => {
  const log: string[] = []
  const limiter = new Limiter(2)
  const tasks = ['a', 'b', 'c', 'd'].map((name) => task(log, name))
  const results = tasks.map(async (t) => await limiter.run(t.run))
  await settle()
  assert.deepEqual(log, ['start a', 'start b'])
  tasks[1]!.finish()
  await settle()
  assert.deepEqual(log, ['start a', 'start b', 'end b', 'start c'])
  tasks[0]!.finish()
  await settle()
  assert.deepEqual(log.slice(4), ['end a', 'start d'])
  tasks[2]!.finish()
  tasks[3]!.finish()
  assert.deepEqual(await Promise.all(results), ['a', 'b', 'c', 'd'])
})

test('a task that fails gives its turn to the next and its error to its caller', async () => {
  const log: string[] = []
  const limiter = new Limiter(1)
  const [first, second] = [task(log, 'first'), task(log, 'second')]
  const failed = limiter.run(first.run)
  const next = limiter.run(second.run)
  await settle()
  assert.deepEqual(log, ['start first'])
  first.fail(new Error('boom'))
  await assert.rejects(failed, /boom/)
  await settle()
  assert.deepEqual(log, ['start first', 'end first', 'start second'])
  second.finish()
  assert.equal(await next, 'second')
})

test('slots come back: after a burst, the limit holds again', async () => {
  const log: string[] = []
  const limiter = new Limiter(3)
  const burst = Array.from({ length: 50 }, (_, i) => task(log, String(i)))
  const all = Promise.all(burst.map(async (t) => await limiter.run(t.run)))
  for (const t of burst) { t.finish(); await settle() }
  await all
  const later = ['x', 'y', 'z', 'w'].map((name) => task(log, name))
  log.length = 0
  const running = later.map(async (t) => await limiter.run(t.run))
  await settle()
  assert.deepEqual(log, ['start x', 'start y', 'start z'])
  for (const t of later) t.finish()
  await Promise.all(running)
})
