import type { LogLevel } from '@p2p-node/protocol';
/** Everything the node needs to start, merged from flags, environment and env file. */
export interface NodeConfig {
    /** IPv4 address to listen on. */
    host: string;
    /** TCP port to listen on, 0 for any free port. */
    port: number;
    /** Name announced in `ready`. */
    name?: string;
    /** Multiaddrs dialled at start. */
    bootstrapPeers: string[];
    /** Lowest level sent as `log` events. */
    logLevel: LogLevel;
    /** Longest stdin line kept, bytes. */
    maxLineBytes: number;
}
export type CliOutcome = {
    kind: 'run';
    config: NodeConfig;
} | {
    kind: 'exit';
    code: number;
};
/** Where --help, --version and usage errors are written. */
export interface CliOutput {
    writeOut: (text: string) => void;
    writeErr: (text: string) => void;
}
/**
 * Parses the command line. Flags win over environment variables, which win over
 * the -e file. Bad input gives exit code 2 with usage on stderr; --help and
 * --version print to stdout (no protocol session starts) and exit 0.
 */
export declare function parseCli(argv: string[], env: NodeJS.ProcessEnv, output: CliOutput): CliOutcome;
