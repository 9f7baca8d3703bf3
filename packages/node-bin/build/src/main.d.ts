export interface MainInit {
    argv: string[];
    env: NodeJS.ProcessEnv;
    stdin: NodeJS.ReadableStream;
    stdout: NodeJS.WritableStream;
    stderr: NodeJS.WritableStream;
}
/**
 * Runs the node until shutdown (command, stdin EOF, SIGTERM or SIGINT) and
 * resolves with the exit code: 0 after a clean stop, 1 when it could not
 * start, 2 for bad flags.
 */
export declare function main(init: MainInit): Promise<number>;
