// The session's rounds as the page knows them: the list (names, losses, metrics, sample quality, an OT round's
// pairing), the latest weights of each, which round is shown (or the random pairing's tab), and the round drawn
// beside it for comparison.

import { renderRounds } from "./controls.js";
import { makeVelocity, traceFlow } from "./cpu.js";
import { drawScene } from "./draw.js";
import { drawErrorVsSteps, drawLoss, renderMetrics } from "./plots.js";
import { renderSampleStrip } from "./samples.js";
import { View } from "./view.js";

const $ = (id) => document.getElementById(id);

/** Losses kept per round for the loss plot. */
const MAX_LOSSES = 2000;

export class RoundList {
  /** @param {import("./app.js").App} app */
  constructor(app) {
    this.app = app;
    /** @type {import("./plots.js").RoundInfo[]} */
    this.items = [];
    /** weights and net of the latest snapshot of each round, by round index */
    this.weights = new Map();
    /** the round whose snapshots are shown, and whether the "random" tab hides them behind the random pairing */
    this.shown = null;
    this.randomView = false;
    /** the round drawn beside the shown one (compare), and its flow traced in JS */
    this.compared = null;
    this.compareFlow = null;
  }

  /** Keep the list in step with the snapshot's (rounds after an edited one are dropped). */
  sync(snapshot) {
    const items = this.items;
    const changed = snapshot.rounds.length !== items.length
      || snapshot.rounds.some((r, i) => items[i]?.name !== r.name)
      || this.shown !== snapshot.round;
    items.length = Math.min(items.length, snapshot.rounds.length);
    snapshot.rounds.forEach((r, i) => {
      if (!items[i] || items[i].name !== r.name) {
        items[i] = { index: i, name: r.name, kind: r.kind, losses: [], metrics: null, quality: null, pairing: null, lastStep: null };
      }
      Object.assign(items[i], { coupling: r.coupling, teacher: r.teacher });
    });
    for (const index of this.weights.keys()) if (index >= items.length) this.weights.delete(index);
    if (this.compared !== null && this.compared >= items.length) this.compare(null);
    if (changed) {
      this.shown = snapshot.round;
      renderRounds(items, this.randomView ? "random" : snapshot.round, this.compared);
      this.renderStrip();
    }
    const round = items[snapshot.round];
    if (snapshot.loss !== null && snapshot.step !== round.lastStep) {
      round.losses.push(snapshot.loss);
      if (round.losses.length > MAX_LOSSES) round.losses.splice(0, round.losses.length - MAX_LOSSES);
      round.lastStep = snapshot.step;
    }
  }

  /** A round's metrics (a `metrics` or `round_done` message). */
  metrics(index, metrics) {
    const round = this.items[index];
    if (!round || !metrics) return;
    round.metrics = {
      // the round's own pairing (x0, z1): its row of the table (docs/engine.md, "Metrics")
      crossing: metrics.crossing?.flow,
      cost: metrics.cost?.flow?.sq,
      // the pairing it trains on: for round 0, the random pairing (x0, x1) of the table's "random" row
      trainedCrossing: metrics.crossing?.pairs,
      trainedCost: metrics.cost?.pairs?.sq,
      straightness: metrics.straightness?.s_norm,
      w2: metrics.w2,
    };
    if (metrics.pairing) round.pairing = metrics.pairing;
    if (metrics.quality) {
      round.quality = metrics.quality;
      this.renderStrip();
    }
    this.renderPanels();
  }

  /** Show a round (the server sends its snapshots), or the random pairing drawn as straight paths. */
  select(round) {
    const app = this.app;
    this.randomView = round === "random";
    if (!this.randomView && round !== app.snapshot?.round) app.connection.send({ type: "select_round", round });
    this.renderTabs();
    app.dirty = true;
  }

  /** Draw round `round` beside the shown one (null: no comparison). */
  compare(round) {
    const app = this.app;
    this.compared = round;
    $("canvases").classList.toggle("split", round !== null);
    app.canvases.compare.hidden = round === null;
    this.compareFlow = null;
    app.resize();
  }

  renderTabs() {
    renderRounds(this.items, this.randomView ? "random" : this.shown, this.compared);
  }

  renderStrip() {
    renderSampleStrip($("sample-strip"), this.items, this.app.state.x1, $("sample-note"));
  }

  renderPanels() {
    const current = this.app.snapshot?.round ?? 0;
    drawLoss($("loss-plot"), this.items, current);
    renderMetrics($("metrics").tBodies[0], this.items, this.randomView ? "random" : current);
    drawErrorVsSteps($("steps-plot"), this.items);
  }

  /** The state as drawn: an OT round's pairing lines join each noise point to its OT partner. */
  drawnState() {
    const { state, snapshot } = this.app;
    const round = this.randomView ? null : this.items[snapshot?.round];
    const pairing = round?.pairing;
    if (!pairing || pairing.length !== state.x1.length || round.teacher !== null) return state;
    return { ...state, x1: pairing.map((j) => state.x1[j]) };
  }

  /** Trace the compared round's flow (in the browser, from its stored weights, with the current solver). */
  traceCompare() {
    if (this.compared === null || this.compareFlow) return;
    const stored = this.weights.get(this.compared);
    if (!stored) return;
    const { state } = this.app;
    const s = state.settings;
    this.compareFlow = traceFlow(makeVelocity(stored.weights, stored.net), state.x0, s.solver, s.steps, s.warp_s);
  }

  drawCompare() {
    if (this.compared === null) return;
    const app = this.app;
    const canvas = app.canvases.compare;
    const ctx = canvas.getContext("2d");
    const view = new View(canvas.width, canvas.height, app.view.dpr, app.worldFrame);
    const state = { ...app.state, view: { ...app.state.view, field: "off" } };
    drawScene(ctx, view, state, this.compareFlow, null, null);
    ctx.fillStyle = "#333";
    ctx.font = `${13 * view.dpr}px system-ui, sans-serif`;
    ctx.fillText(`compare: ${this.items[this.compared]?.name ?? ""}`, 8 * view.dpr, 18 * view.dpr);
  }
}
