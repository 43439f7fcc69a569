// The page's only link to the server: the websocket of docs/protocol.md (JSON control messages, binary float32
// frames) and the share-link HTTP calls. Every URL is relative to the page, so it works under a proxy's sub-path.

export const PROTOCOL_VERSION = 1;
const FRAME_MAGIC = "RFTY";
const FRAME_KINDS = { 1: "weights", 2: "trajectories", 3: "endpoints" };

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
 */
export class Connection {
  /**
   * @param {Record<string, (message: any) => void>} handlers keyed by message type, plus `open` and `close`
   */
  constructor(handlers) {
    this.handlers = handlers;
    /** @type {WebSocket | null} */
    this.ws = null;
    /** the snapshot waiting for its binary frames */
    this.pending = null;
    this.nextSeq = 1;
  }

  /** Open the page's `ws` (wss on https) and send `hello` with the given extra fields (scene, scene_id, config). */
  open(hello) {
    const url = new URL("ws", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.search = "";
    url.hash = "";
    const ws = new WebSocket(url);
    ws.binaryType = "arraybuffer";
    ws.onopen = () => {
      this.send({ type: "hello", protocol: PROTOCOL_VERSION, ...hello });
      this.handlers.open?.();
    };
    ws.onmessage = (event) => this.receive(event.data);
    ws.onclose = (event) => this.handlers.close?.(event);
    this.ws = ws;
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
