/** How a JSON value travels between peers: its UTF-8 JSON encoding. */
export declare function encodePayload(data: unknown): Uint8Array;
/** The `data` of a received payload, or `dataBase64` when it is not UTF-8 JSON. */
export declare function decodePayload(bytes: Uint8Array): {
    data: unknown;
} | {
    dataBase64: string;
};
