// stdout carries protocol lines and nothing else. Anything a dependency prints
// through console.* goes to stderr instead. Imported before any dependency.
const toStderr = (...args: unknown[]): void => { console.error(...args) }
console.log = toStderr
console.info = toStderr
console.debug = toStderr
console.trace = (...args: unknown[]) => { console.error(new Error(args.map(String).join(' ')).stack) }
console.dir = (item: unknown) => { console.error(item) }
console.table = (data: unknown) => { console.error(data) }

export {}
