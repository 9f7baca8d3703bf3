// What the runner reads of the processes it measures, from /proc (Linux).
import { execFileSync } from 'node:child_process'
import { readFile } from 'node:fs/promises'

const read = async (pid: number, file: string): Promise<string> => await readFile(`/proc/${pid}/${file}`, 'utf8')
/** The kB figure of one `Name:  N kB` line of a /proc file; NaN if absent (reported as n/a). */
const kib = (text: string, field: string): number => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? Number.NaN)

/** RSS of a process, bytes. */
export async function rssOf (pid: number): Promise<number> {
  return kib(await read(pid, 'status'), 'VmRSS') * 1024
}

/** Private memory of a process (resident pages no other process shares), bytes. */
export async function privateOf (pid: number): Promise<number> {
  const rollup = await read(pid, 'smaps_rollup')
  return (kib(rollup, 'Private_Clean') + kib(rollup, 'Private_Dirty')) * 1024
}

let clockTicks: number | undefined

/** CPU time a process has used so far, all its threads, user and system, ms. */
export async function cpuOf (pid: number): Promise<number> {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }))
  const stat = await read(pid, 'stat')
  // The fields after the command name (in parentheses, and it may hold spaces): utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 1000 / clockTicks
}
