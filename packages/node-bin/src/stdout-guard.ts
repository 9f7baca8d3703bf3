// stdout carries protocol lines and nothing else. Anything a dependency prints
// through console.* goes to stderr instead. Imported before any dependency.
const toStderr = (...args: unknown[]): void => { console.error(...args) }
console.log = toStderr
console.info = toStderr
console.debug = toStderr
console.trace = (...args: unknown[]) => { console.error(new Error(args.map(String).join(' ')).stack) }
console.dir = (item: unknown) => { console.error(item) }
console.table = (data: unknown) => { console.error(data) }

// A parent that closed its end of stderr gets no diagnostics, and the node runs
// on. Unhandled, each failed write raised an error whose report was written to
// stderr again: the node spun at full CPU and never became ready.
process.stderr.on('error', () => {})

export {}
