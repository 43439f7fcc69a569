// Edits in step with the server: a drag's moves coalesced to about 60 Hz, each edit sent with a sequence number,
// the snapshot that reflects it measured as the latency, and an edit the server refuses taken back on the page.

import { normalPoints } from "./sampling.js";
import { roundCoord } from "./state.js";
import { syncControls } from "./controls.js";

/** Edits go out at most this often (about 60 Hz); moves in between are coalesced. */
const MIN_EDIT_INTERVAL_MS = 16;
/** Latency samples kept for the median and 95th percentile. */
const LATENCY_WINDOW = 50;
/** Messages that carry an edit of the points. */
const EDIT_TYPES = ["edit", "add_pair", "remove_pair"];

export class EditSync {
  /** @param {import("./app.js").App} app */
  constructor(app) {
    this.app = app;
    /** a sample is being dragged */
    this.dragging = false;
    /** moves not yet sent, keyed by cloud and index, with the time of the oldest pointer event */
    this.pendingMoves = new Map();
    this.pendingSince = null;
    this.lastFlush = 0;
    /** send time of each edit seq not yet reflected by a snapshot */
    this.sentAt = new Map();
    /** the undoable edit behind each add/remove/click-move seq not yet applied, to take it back if refused */
    this.sentEdits = new Map();
    this.lastSentSeq = null;
    this.lastDragSeq = null;
    this.appliedSeq = null;
    this.latencies = [];
    this.lastLatency = null;
  }

  /** A dragged sample moved: redraw at once, send at the next frame (coalesced). */
  move(cloud, index, x, y, time) {
    const app = this.app;
    this.dragging = true;
    app.highlight = { cloud, index, dragged: true };
    app.state[cloud][index] = [roundCoord(x), roundCoord(y)];
    this.pendingMoves.set(`${cloud}:${index}`, { cloud, index, x: roundCoord(x), y: roundCoord(y) });
    this.pendingSince ??= time;
    app.state.edited = true;
    app.dirty = true;
    if (performance.now() - this.lastFlush >= MIN_EDIT_INTERVAL_MS) this.flush();
  }

  /** The drag is over: it is recorded for undo (its positions went out while dragging). */
  endDrag(cloud, index, from, to) {
    this.dragging = false;
    this.app.highlight = null;
    this.commit({ kind: "move", cloud, index, from, to: to.map(roundCoord) });
  }

  /** Send the coalesced moves (at once from a pointer event, or at the next frame when sent very recently). */
  flush() {
    const connection = this.app.connection;
    if (!this.pendingMoves.size || !connection?.isOpen) return;
    const seq = connection.sendEdit({ type: "edit", moves: [...this.pendingMoves.values()] });
    this.noteSent(seq, this.pendingSince);
    this.lastDragSeq = seq;
    this.pendingMoves.clear();
    this.pendingSince = null;
    this.lastFlush = performance.now();
  }

  noteSent(seq, since = performance.now()) {
    this.sentAt.set(seq, since);
    this.lastSentSeq = seq;
  }

  /** Record a finished edit for undo and send it. */
  commit(edit) {
    this.flush();
    this.send(this.app.state.apply(edit), edit.kind === "move");
  }

  /**
   * Tell the server about an applied edit.
   * @param {import("./state.js").Edit | null} edit
   * @param {boolean} alreadySent a drag whose positions went out while dragging
   */
  send(edit, alreadySent = false) {
    if (!edit) return;
    const app = this.app;
    app.dirty = true;
    let message;
    if (edit.kind === "move") {
      if (alreadySent) return;
      message = { type: "edit", moves: [{ cloud: edit.cloud, index: edit.index, x: edit.to[0], y: edit.to[1] }] };
    } else {
      app.flow = null;
      app.particles.reset();
      message = edit.kind === "add"
        ? { type: "add_pair", x0: edit.x0, x1: edit.x1, index: edit.index }
        : { type: "remove_pair", index: edit.index };
    }
    const seq = app.connection.sendEdit(message);
    this.noteSent(seq);
    this.sentEdits.set(seq, edit);
  }

  /** Click on empty space: a data sample there, paired with noise drawn near a random noise sample. */
  addPair(x, y) {
    const { state, limits } = this.app;
    if (!this.app.ready || state.count >= (limits?.max_points ?? Infinity)) return;
    const [jitter] = normalPoints(1, state.count + 7919 * this.app.particles.seed++);
    const anchor = state.x0[Math.floor(Math.random() * state.count)] || [0, 0];
    const x0 = [roundCoord(anchor[0] + 0.3 * jitter[0]), roundCoord(anchor[1] + 0.3 * jitter[1])];
    this.commit({ kind: "add", index: state.count, x0, x1: [roundCoord(x), roundCoord(y)] });
  }

  /** A snapshot reflects the edits up to `appliedSeq`: their latencies are measured and they are final. */
  applied(appliedSeq, now) {
    if (appliedSeq === null || appliedSeq === this.appliedSeq) return;
    this.appliedSeq = appliedSeq;
    for (const seq of this.sentEdits.keys()) if (seq <= appliedSeq) this.sentEdits.delete(seq);
    for (const [seq, sent] of this.sentAt) {
      if (seq > appliedSeq) continue;
      this.lastLatency = now - sent;
      this.latencies.push(this.lastLatency);
      this.sentAt.delete(seq);
    }
    this.latencies.splice(0, Math.max(0, this.latencies.length - LATENCY_WINDOW));
  }

  /** The server refused a message: a refused edit, add or remove is undone on the page and leaves the history. */
  refused(message) {
    const edit = this.sentEdits.get(message.seq);
    if (!edit || !EDIT_TYPES.includes(message.in_reply_to)) return;
    const app = this.app;
    this.sentEdits.delete(message.seq);
    this.sentAt.delete(message.seq);
    this.lastSentSeq = Math.max(this.appliedSeq ?? 0, ...this.sentAt.keys());
    app.state.revert(edit);
    app.state.settings.n = app.state.count;
    app.flow = null;
    app.particles.reset();
    syncControls(app.state);
    app.dirty = true;
  }

  /** A new session (a reconnect) starts from the page's points: nothing sent before is pending any more. */
  forget() {
    this.pendingMoves.clear();
    this.pendingSince = null;
    this.sentAt.clear();
    this.sentEdits.clear();
    this.lastSentSeq = null;
    this.appliedSeq = null;
  }
}
