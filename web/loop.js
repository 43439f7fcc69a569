// The animation loop: each frame moves t, sends coalesced moves, advances the particles, evaluates the velocity
// field when it is due, draws the scene (and the compared round) when anything changed, and acknowledges the
// snapshot drawn.

import { syncTime } from "./controls.js";
import { drawScene, straightFlow } from "./draw.js";

/** Field grid columns (rows follow the canvas's aspect). */
const FIELD_COLUMNS = 25;
/** On the JS backend (or a software adapter) the field is re-evaluated at most this often. */
const SOFTWARE_FIELD_MS = 100;

export class FrameLoop {
  /** @param {import("./app.js").App} app */
  constructor(app) {
    this.app = app;
    this.frameTimes = [];
    this.fps = 0;
    this.lastFrame = performance.now();
    /** @type {import("./draw.js").Field | null} */
    this.field = null;
    /** what the field was last evaluated for (t, snapshot, canvas size), and when */
    this.fieldKey = "";
    this.fieldAt = 0;
    this.fieldBusy = false;
  }

  start() {
    requestAnimationFrame((now) => this.frame(now));
  }

  frame(now) {
    const app = this.app;
    const elapsed = Math.min(0.1, (now - this.lastFrame) / 1000);
    this.lastFrame = now;
    this.frameTimes.push(now);
    while (this.frameTimes.length && this.frameTimes[0] < now - 1000) this.frameTimes.shift();
    this.fps = this.frameTimes.length;
    const view = app.state.view;
    if (view.playing) {
      view.t += view.speed * elapsed;
      if (view.t > 1) {
        view.t = view.loop ? 0 : 1;
        view.playing = view.loop;
      }
      syncTime(app.state);
    }
    app.edits.flush();
    app.particles.frame(now);
    const fieldKey = `${view.t}|${app.snapshots}|${app.view.width}x${app.view.height}`;
    const fieldDue = !app.backend?.software || now - this.fieldAt >= SOFTWARE_FIELD_MS;
    if (view.field !== "off" && this.fieldKey !== fieldKey && !this.fieldBusy && fieldDue) {
      this.fieldKey = fieldKey;
      this.fieldAt = now;
      this.evaluateField(view.t);
    }
    app.roundList.traceCompare();
    app.probe?.update();
    if (app.dirty || view.playing) this.draw();
    if (this.frameTimes.length % 15 === 0) app.notices.badges();
    requestAnimationFrame((next) => this.frame(next));
  }

  /** Draw the scene and everything over it, then acknowledge the snapshot drawn. */
  draw() {
    const app = this.app;
    const { roundList, state } = app;
    const view = state.view;
    const flow = roundList.randomView ? straightFlow(state.x0, state.x1) : app.flow;
    const field = view.field === "off" || roundList.randomView ? null : this.field;
    drawScene(app.ctx, app.view, roundList.drawnState(), flow, field, app.highlight);
    app.tools.draw(app.ctx, app.view);
    app.teaching?.draw(app.ctx, app.view);
    app.probe?.draw(app.ctx, app.view);
    roundList.drawCompare();
    app.dirty = false;
    if (app.unacknowledged !== null) {
      app.connection.send({ type: "ack", seq: app.unacknowledged });
      app.unacknowledged = null;
    }
  }

  /** The velocity field on a grid over the visible world at time t, from the compute backend. */
  async evaluateField(t) {
    const app = this.app;
    if (!app.backend || !app.roundList.weights.has(app.snapshot?.round)) return;
    this.fieldBusy = true;
    const bounds = app.view.bounds();
    const nx = FIELD_COLUMNS;
    const ny = Math.max(2, Math.round((nx * (bounds[3] - bounds[2])) / (bounds[1] - bounds[0])));
    const queries = new Float32Array(3 * nx * ny);
    for (let iy = 0; iy < ny; iy++) {
      for (let ix = 0; ix < nx; ix++) {
        const q = 3 * (iy * nx + ix);
        queries[q] = bounds[0] + (ix / (nx - 1)) * (bounds[1] - bounds[0]);
        queries[q + 1] = bounds[2] + (iy / (ny - 1)) * (bounds[3] - bounds[2]);
        queries[q + 2] = t;
      }
    }
    try {
      this.field = { nx, ny, bounds, v: await app.backend.evaluate(queries) };
      app.dirty = true;
    } catch (error) {
      console.warn(`rftoy: field evaluation failed (${error.message}); it is retried at the next change`);
    } finally {
      this.fieldBusy = false;
    }
  }
}
