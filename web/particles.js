// The dense particles: how many (automatic, asked, or capped when plain JS cannot draw them fast enough), where
// they start, and bringing them to the current t on the compute backend each frame.

import { drawParticles } from "./draw.js";
import { particleOrigins } from "./sampling.js";

const $ = (id) => document.getElementById(id);

/** Particles when the view asks for "automatic" (0): many on a real GPU, fewer in plain JS or SwiftShader. */
const AUTO_PARTICLES = { gpu: 20000, software: 1500 };
/**
 * How often the JS backend (or a software WebGPU adapter) may re-trace the particles from t = 0 after new
 * weights while paused, and with at most how many Euler steps; a real GPU re-traces with the chosen solver.
 */
const SOFTWARE_RETRACE_MS = 1000;
const SOFTWARE_RETRACE_STEPS = 8;
/** A JS particle count that keeps the page under this frame rate for a second is capped (with a note). */
const MIN_PARTICLE_FPS = 20;

export class Particles {
  /** @param {import("./app.js").App} app */
  constructor(app) {
    this.app = app;
    /** a JS particle count the page could not draw at MIN_PARTICLE_FPS is capped here (null: no cap) */
    this.cap = null;
    this.slowSince = null;
    this.seed = 1;
    /** new weights arrived: the particles are re-traced from t = 0 */
    this.stale = true;
    this.tracedAt = 0;
    this.lastT = app.state.view.t;
    /** times of particle updates (positions advanced) in the last second */
    this.times = [];
    this.drawnPositions = null;
  }

  target() {
    const { backend, state } = this.app;
    if (!backend) return 0;
    const wanted = state.view.particles || (backend.software ? AUTO_PARTICLES.software : AUTO_PARTICLES.gpu);
    const capped = this.cap && this.cap.asked === state.view.particles && backend.software;
    return capped ? Math.min(wanted, this.cap.count) : wanted;
  }

  /**
   * On the JS backend, a particle count the user asked for that keeps the page under MIN_PARTICLE_FPS for a
   * second is cut (at least halved, not below the automatic count), with a note by the particles box; a new
   * count starts over.
   */
  capIfSlow(now) {
    const { backend, state, loop } = this.app;
    const asked = state.view.particles;
    const note = $("particle-note");
    if (this.cap && this.cap.asked !== asked) {
      this.cap = null;
      note.hidden = true;
    }
    const current = this.target();
    const slow = backend?.software && asked > AUTO_PARTICLES.software && current > AUTO_PARTICLES.software
      && !document.hidden && loop.fps < MIN_PARTICLE_FPS;
    if (!slow) {
      this.slowSince = null;
      return;
    }
    this.slowSince ??= now;
    if (now - this.slowSince < 1000) return;
    this.slowSince = null;
    // the frame rate scales about inversely with the count: aim a quarter above the floor, at least halving
    const aimed = Math.floor((current * loop.fps) / (1.25 * MIN_PARTICLE_FPS));
    const count = Math.max(AUTO_PARTICLES.software, Math.min(Math.floor(current / 2), aimed));
    this.cap = { asked, count };
    const number = (value) => value.toLocaleString("en");
    note.textContent = `capped at ${number(count)} particles: ${number(asked)} kept this page under ${MIN_PARTICLE_FPS} frames per second in plain JavaScript`;
    note.hidden = false;
    this.reset();
  }

  reset() {
    const { backend, state } = this.app;
    if (!backend) return;
    backend.setOrigins(particleOrigins(state.x0, this.target(), this.seed));
    this.stale = true;
  }

  /**
   * Bring the particles to the current t: a small step forward, or a fresh trace from t = 0.
   * @returns {boolean} whether any work was started
   */
  advance(now) {
    const { backend, state, roundList, snapshot, edits } = this.app;
    const { t, playing } = state.view;
    if (!roundList.weights.has(snapshot?.round)) return false;
    // On slow backends the particles hold still during a drag, so the page keeps up with the pointer.
    if (!backend.idle || (edits.dragging && backend.software)) return false;
    const steps = state.settings.steps;
    const retraceDue = !backend.software || now - this.tracedAt > SOFTWARE_RETRACE_MS;
    if (t < this.lastT || (this.stale && !playing && retraceDue)) {
      backend.reset();
      if (backend.software) backend.advect(0, t, Math.max(1, Math.ceil(t * Math.min(steps, SOFTWARE_RETRACE_STEPS))), "euler");
      else backend.advect(0, t, Math.max(1, Math.ceil(t * steps)), state.settings.solver);
      this.stale = false;
      this.tracedAt = now;
    } else if (t > this.lastT) {
      // One Euler step per update on slow backends: more steps for a longer frame would slow the next one more.
      const substeps = backend.software ? 1 : Math.max(1, Math.ceil((t - this.lastT) * steps));
      backend.advect(this.lastT, t, substeps, "euler");
    } else {
      return false;
    }
    this.lastT = t;
    return true;
  }

  /** One frame: the count checked, the particles advanced, and drawn when they moved or the scene is dirty. */
  frame(now) {
    const app = this.app;
    const backend = app.backend;
    if (!backend) return;
    this.capIfSlow(now);
    if (backend.particleCount !== this.target() && app.state.count) this.reset();
    const moved = this.advance(now);
    const updated = backend.positions !== this.drawnPositions || (moved && backend.name === "js");
    if (updated) this.times.push(now);
    while (this.times.length && this.times[0] < now - 1000) this.times.shift();
    if (updated || app.dirty) {
      this.drawnPositions = backend.positions;
      const view = app.state.view;
      drawParticles(app.particleCtx, app.view, this.drawnPositions, view.t, view.layers.particles && !app.roundList.randomView);
    }
  }
}
