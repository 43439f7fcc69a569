// What the page says about itself: the header badges (backend, latency, frame rate), the error box, the
// connection notice and the busy server's coarser trace.

import { percentile } from "./plots.js";

const $ = (id) => document.getElementById(id);

/** How long an error stays up. */
const ERROR_MS = 8000;
/** How long "reconnected, your scene was restored" stays up. */
const RECONNECTED_NOTICE_MS = 5000;

export class Notices {
  /** @param {import("./app.js").App} app */
  constructor(app) {
    this.app = app;
    /** every error shown, for the test hook */
    this.errors = [];
    this.errorTimer = null;
    this.connectionTimer = null;
  }

  error(text) {
    console.warn(`rftoy: ${text}`);
    this.errors.push(text);
    const box = $("error");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(this.errorTimer);
    this.errorTimer = setTimeout(() => (box.hidden = true), ERROR_MS);
  }

  /** The connection notice: "reconnecting" stays up; "restored" goes after RECONNECTED_NOTICE_MS. */
  connection(text, restored = false) {
    const box = $("connection");
    box.textContent = text;
    box.classList.toggle("restored", restored);
    box.hidden = false;
    clearTimeout(this.connectionTimer);
    if (restored) this.connectionTimer = setTimeout(() => (box.hidden = true), RECONNECTED_NOTICE_MS);
  }

  /** A busy server traces drag snapshots with a cheaper solver than the config's (docs/protocol.md): say so. */
  traceSolver(snapshot) {
    const badge = $("badge-busy");
    badge.hidden = !snapshot.coarse;
    const { method, steps } = snapshot.solver;
    if (snapshot.coarse) badge.textContent = `busy: ${method} × ${steps} paths while you drag`;
  }

  badges() {
    const { backend, backendNote, edits, loop } = this.app;
    if (backend) {
      const note = backend.name === "webgpu" ? backendNote : "fallback";
      $("badge-browser").textContent = `browser: ${backend.name === "webgpu" ? "WebGPU" : "JS"}${note ? ` (${note})` : ""}`;
      $("badge-browser").title = backendNote;
    }
    const p50 = percentile(edits.latencies, 0.5);
    $("badge-latency").textContent = edits.lastLatency === null
      ? "latency: –"
      : `latency: ${Math.round(edits.lastLatency)} ms (p50 ${Math.round(p50)} ms)`;
    $("badge-fps").textContent = `fps: ${Math.round(loop.fps)}`;
  }

  /** The server's badge, from /api/health. */
  server(device) {
    $("badge-server").textContent = `server: ${device.toUpperCase()}`;
  }
}
