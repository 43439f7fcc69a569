// The page's only link to the server: the websocket of docs/protocol.md (JSON control messages, binary float32
// frames) and the share-link HTTP calls. Every URL is relative to the page, so it works under a proxy's sub-path.

export const PROTOCOL_VERSION = 1;
const FRAME_MAGIC = "RFTY";
const FRAME_KINDS = { 1: "weights", 2: "trajectories", 3: "endpoints" };
/** Reconnect delays: the first retry after about RETRY_FIRST_MS, doubling up to RETRY_MAX_MS (each ±25 %). */
const RETRY_FIRST_MS = 500;
const RETRY_MAX_MS = 8000;
/** Closes after which a retry cannot help: protocol errors, a refused policy (flood, origin, no hello), too big. */
const FINAL_CLOSE_CODES = new Set([1002, 1003, 1007, 1008, 1009, 1010]);
/** Server errors that end a session for good (sent before the close): the page was left idle. */
const FINAL_ERROR_CODES = new Set(["idle"]);

/**
 * Decode one binary frame (protocol.md §4).
 * @param {ArrayBuffer} buffer
 * @returns {{kind: string, seq: number, shape: number[], data: Float32Array}}
 */
export function decodeFrame(buffer) {
  const view = new DataView(buffer);
  const magic = String.fromCharCode(...new Uint8Array(buffer, 0, 4));
  if (magic !== FRAME_MAGIC) throw new Error(`binary frame with bad magic ${JSON.stringify(magic)}`);
  const version = view.getUint8(4);
  if (version !== PROTOCOL_VERSION) throw new Error(`binary frame of protocol ${version}`);
  const ndim = view.getUint8(6);
  const shape = [0, 1, 2].slice(0, ndim).map((i) => view.getUint32(12 + 4 * i, true));
  const count = shape.reduce((a, b) => a * b, 1);
  return {
    kind: FRAME_KINDS[view.getUint8(5)] || "unknown",
    seq: view.getUint32(8, true),
    shape,
    data: new Float32Array(buffer.slice(24, 24 + 4 * count)),
  };
}

/**
 * A snapshot message with its binary frames attached by kind.
 * @typedef {Object} Snapshot
 * @property {number} seq
 * @property {number} round
 * @property {number | null} applied_seq
 * @property {string} state
 * @property {number | null} loss
 * @property {number} n
 * @property {{width: number, depth: number, activation: string}} net
 * @property {{method: string, steps: number, warp_s: number}} solver
 * @property {boolean} coarse  a busy server traced this drag snapshot by Euler on half the config's steps
 * @property {number[]} times
 * @property {{index: number, kind: string, name: string, loss: number | null, converged: boolean}[]} rounds
 * @property {Record<string, {shape: number[], data: Float32Array}>} arrays
 */

/**
 * One live session. Incoming messages are handed to `handlers[type]`; snapshots are delivered once all their
 * binary frames have arrived.
 *
 * When a live session's socket drops (its replica stopped, the network blinked), the connection retries with
 * backoff and opens a fresh session with the hello `handlers.resume()` returns (the page's own scene and
 * settings), calling `handlers.reconnecting({attempt, delayMs, code})` before each try and
 * `handlers.reconnected()` once the new session is ready. `handlers.close(event)` comes only when it gives up:
 * a close no retry can help (FINAL_CLOSE_CODES, an `idle` error), or a first connection that never got ready.
 */
export class Connection {
  /**
   * @param {Record<string, (message: any) => any>} handlers keyed by message type, plus `open`, `close`,
   *   `resume`, `reconnecting` and `reconnected`
   */
  constructor(handlers) {
    this.handlers = handlers;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** the snapshot waiting for its binary frames */
    this.pending = null;
    this.nextSeq = 1;
    /** a session of this connection has been ready (so a drop is worth a reconnect) */
    this.wasReady = false;
    /** failed reconnect attempts since the last ready session (0 while connected) */
    this.retries = 0;
    /** the code of the last `error` message, to tell a final close from a dropped one */
    this.lastErrorCode = null;
  }

  /**
   * Open the page's `ws` (wss on https) and send `hello` with the given extra fields (scene, scene_id, config),
   * or with those a function returns once the socket is open (a reconnect sends the page's state of that moment).
   */
  open(hello) {
    const url = new URL("ws", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.search = "";
    url.hash = "";
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      this.send({ type: "hello", protocol: PROTOCOL_VERSION, ...(typeof hello === "function" ? hello() : hello) });
      this.handlers.open?.();
    };
    ws.onmessage = (event) => this.receive(event.data);
    ws.onclose = (event) => this.closed(ws, event);
    this.ws = ws;
    this.lastErrorCode = null;
  }

  /** The socket closed: retry if a live session dropped, else report the close. */
  closed(ws, event) {
    if (ws !== this.ws) return;
    this.pending = null;
    const final = FINAL_CLOSE_CODES.has(event.code) || FINAL_ERROR_CODES.has(this.lastErrorCode);
    if (!this.wasReady || final) {
      this.retries = 0;
      this.handlers.close?.(event);
      return;
    }
    const delayMs = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** this.retries) * (0.75 + 0.5 * Math.random());
    this.retries += 1;
    this.handlers.reconnecting?.({ attempt: this.retries, delayMs, code: event.code });
    setTimeout(() => this.open(() => this.handlers.resume()), delayMs);
  }

  get isOpen() {
    return this.ws?.readyState === WebSocket.OPEN;
  }

  send(message) {
    if (this.isOpen) this.ws.send(JSON.stringify(message));
  }

  /** Send an edit-like message (edit, add_pair, remove_pair) with a new sequence number; returns it. */
  sendEdit(message) {
    const seq = this.nextSeq++;
    this.send({ ...message, seq });
    return seq;
  }

  receive(data) {
    if (typeof data !== "string") {
      this.receiveFrame(data);
      return;
    }
    const message = JSON.parse(data);
    if (message.type === "snapshot") {
      this.pending = { ...message, arrays: {}, remaining: message.frames.length };
      if (this.pending.remaining === 0) this.deliverSnapshot();
      return;
    }
    if (message.type === "error") this.lastErrorCode = message.code;
    if (message.type === "ready") {
      const resumed = this.retries > 0;
      this.wasReady = true;
      this.retries = 0;
      this.handlers.ready?.(message);
      if (resumed) this.handlers.reconnected?.();
      return;
    }
    this.handlers[message.type]?.(message);
  }

  receiveFrame(buffer) {
    const frame = decodeFrame(buffer);
    const snapshot = this.pending;
    if (!snapshot || frame.seq !== snapshot.seq) {
      this.handlers.error?.({ code: "client", message: `binary frame for snapshot ${frame.seq} arrived unexpectedly` });
      return;
    }
    snapshot.arrays[frame.kind] = { shape: frame.shape, data: frame.data };
    snapshot.remaining -= 1;
    if (snapshot.remaining === 0) this.deliverSnapshot();
  }

  deliverSnapshot() {
    const snapshot = this.pending;
    this.pending = null;
    delete snapshot.remaining;
    this.handlers.snapshot?.(snapshot);
  }
}

/** Store a scene on the server for a share link; returns its id. */
export async function saveScene(scene, config) {
  const response = await fetch("api/scenes", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ scene, config }),
  });
  if (!response.ok) throw new Error(`saving the scene failed: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()).id;
}

/** Where the server computes (from /api/health), e.g. "cpu" or "cuda". */
export async function serverDevice() {
  const response = await fetch("api/health");
  if (!response.ok) return "unknown";
  return (await response.json()).device;
}
