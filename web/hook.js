// The read-only test hook `window.rftoy` (documented in docs/web.md): a summary of the page's state, the
// points and drawn trajectories, and the page's MLP forward passes for the parity test.

import { CpuBackend } from "./cpu.js";
import { createGpuBackend } from "./gpu.js";
import { percentile } from "./plots.js";
import { trajectoryOf } from "./trajectories.js";

/** A fresh plain object describing the app. */
export function summarize(app) {
  const current = app.snapshot ? app.rounds[app.snapshot.round] : null;
  return {
    ready: app.ready,
    backend: app.backend?.name ?? null,
    backendNote: app.backendNote,
    fps: app.loop.fps,
    particleFps: app.particles.times.length,
    n: app.state.count,
    particles: app.backend?.particleCount ?? 0,
    round: app.snapshot?.round ?? null,
    rounds: app.rounds.map((r) => r.name),
    trainingState: app.snapshot?.state ?? null,
    step: app.snapshot?.step ?? null,
    loss: app.snapshot?.loss ?? null,
    snapshots: app.snapshots,
    sentSeq: app.edits.lastSentSeq,
    appliedSeq: app.appliedSeq,
    crossing: current?.metrics?.crossing ?? null,
    crossings: app.rounds.map((r) => r.metrics?.crossing ?? null),
    randomCrossing: app.rounds[0]?.metrics?.trainedCrossing ?? null,
    quality: app.rounds.map((r) => (r.quality ? {
      steps: r.quality.euler.map((e) => e.steps), w2: r.quality.euler.map((e) => e.w2), w2Chosen: r.quality.chosen.w2,
      floor: r.quality.floor, against: r.quality.against,
    } : null)),
    probe: app.probe?.summary() ?? null,
    latency: {
      last: app.lastLatency,
      p50: percentile(app.edits.latencies, 0.5),
      p95: percentile(app.edits.latencies, 0.95),
      count: app.edits.latencies.length,
    },
    t: app.state.view.t,
    playing: app.state.view.playing,
    settings: { ...app.state.settings },
    undo: app.state.undoStack.length,
    redo: app.state.redoStack.length,
    errors: [...app.notices.errors],
    sharedUrl: app.sharedUrl ?? null,
    compared: app.compared,
    randomView: app.randomView,
    brushing: app.tools.brushing,
    brushPoints: app.tools.brushPoints.length,
    adding: app.tools.adding,
    asking: Boolean(app.guard.pending),
    replaying: Boolean(app.replay && !app.replay.done),
    particleCap: app.particles.cap?.count ?? null,
    dragged: app.highlight?.dragged ? app.highlight.index : null,
    /** the page's mode, whether the introduction shows, and the lesson's step and check (teach.js) */
    teaching: app.teaching?.summary() ?? null,
    reconnects: app.reconnects,
  };
}

/** The compute-only WebGPU backend of `forward`, made on first use. */
let parityGpu = null;

/**
 * Run the page's MLP forward pass on given weights, for the parity test: `backend` "js" uses cpu.js, "webgpu"
 * shaders/ on a separate compute-only WebGPU device (the page's own weights are left alone).
 */
async function forward(weights, net, queries, backend) {
  const w = Float32Array.from(weights);
  const q = Float32Array.from(queries);
  if (backend === "js") {
    const cpu = new CpuBackend();
    cpu.setWeights(w, net);
    return Array.from(cpu.evaluateNow(q));
  }
  parityGpu ??= await createGpuBackend(() => (parityGpu = null));
  parityGpu.setWeights(w, net);
  return Array.from(await parityGpu.evaluate(q));
}

/** Install `window.rftoy` for `app`. */
export function installHook(app) {
  window.rftoy = Object.freeze({
    get summary() {
      return summarize(app);
    },
    /** x0 and x1 as [x, y] lists (copies). */
    points: () => ({ x0: app.state.x0.map((p) => [...p]), x1: app.state.x1.map((p) => [...p]) }),
    /** The drawn trajectory of sample i ([x, y] per solver time), or null while none matches the scene. */
    trajectory: (i) => (app.flow && app.flow.n === app.state.count && i < app.flow.n ? trajectoryOf(app.flow, i) : null),
    /** Where world point (x, y) is drawn, in page CSS pixels. */
    worldOnPage: (x, y) => {
      const rect = app.canvases.scene.getBoundingClientRect();
      const [cx, cy] = app.view.toCss(x, y);
      return { x: rect.left + cx, y: rect.top + cy };
    },
    /** Where sample `index` of `cloud` ("x0" | "x1") is drawn, in page CSS pixels (for driving the pointer). */
    pointOnPage: (cloud, index) => {
      const rect = app.canvases.scene.getBoundingClientRect();
      const [x, y] = app.view.toCss(...app.state[cloud][index]);
      return { x: rect.left + x, y: rect.top + y };
    },
    forward,
  });
}

