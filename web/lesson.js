// The guided lesson ("Tour", or the link form ?lesson=1): eight short steps, each setting up its scene, saying
// what to look at, and checking itself from the live numbers (the server's metrics, and W2 measured in the page
// from each round's weights by quality.js) before it shows its figure.

import { syncControls } from "./controls.js";
import { meanGap, roundQuality } from "./quality.js";

/** The lesson's scene: few points in a shape that reads, small enough to train in seconds. */
export const LESSON_SCENE = Object.freeze({ source: "gaussian", target: "moons", n: 48, seed: 0, mode: "pairs" });
/** The calm layers every step starts from. */
const CALM_LAYERS = { samples: true, pairs: true, trajectories: true, moving: true, endpoints: false, newPairs: false, particles: false };
/** How often the open step re-checks itself. */
const CHECK_MS = 300;
/** A mean distance (world units) between one-step and solver endpoints that counts as missing. */
const MISS = 0.25;
/** Where a one-step sample lands (drawn in steps that compare one step with many). */
const ONE_STEP_COLOR = "#D55E00";

const pct = (x) => `${(100 * x).toFixed(1)} %`;
const num = (x) => (x >= 0.1 ? x.toFixed(2) : x.toPrecision(2));

/**
 * @typedef {Object} Step
 * @property {string} id @property {string} title @property {string} text @property {string} ask
 * @property {"reflow" | "distill"} [action] a button the step offers
 * @property {boolean} [oneStep] draw where one Euler step takes each noise point
 * @property {(lesson: Lesson) => void} [enter]
 * @property {(lesson: Lesson) => {ok: boolean, figure: string | null, values?: object}} check
 */

/** @type {Step[]} */
const STEPS = [
  {
    id: "random",
    title: "Random pairs cross",
    text: "Blue dots are noise samples x0; orange dots are data samples x1, two moons. Rectified flow starts by "
      + "pairing them, here at random. Each grey line joins a pair, and the black dots travel along these straight "
      + "lines at constant speed as time t runs from 0 to 1.",
    ask: "Watch the black dots: many of the straight paths cross each other.",
    enter: (l) => l.show("random", { trajectories: false }), // the grey pairing lines are the paths here
    check: (l) => {
      const random = l.app.rounds[0]?.metrics?.trainedCrossing ?? null;
      return { ok: random !== null, figure: random === null ? null : `${pct(random)} of pairs of paths cross.`, values: { random } };
    },
  },
  {
    id: "bend",
    title: "The flow learns the average direction",
    text: "A small network learns one velocity for every place and time: the average direction of the straight "
      + "paths passing there. Where two paths cross, a point cannot go both ways, so the learned paths bend away "
      + "from each other instead. This flow is called 1-RF.",
    ask: "Watch the blue paths settle while the network trains.",
    enter: (l) => l.show(0),
    check: (l) => {
      const random = l.app.rounds[0]?.metrics?.trainedCrossing ?? null;
      const flow = l.app.rounds[0]?.metrics?.crossing ?? null;
      const ok = random !== null && flow !== null && flow <= 0.1 && flow < random / 2;
      const figure = flow === null || random === null ? null : `Random pairs: ${pct(random)} cross → 1-RF's paths: ${pct(flow)}.`;
      return { ok, figure, values: { random, flow } };
    },
  },
  {
    id: "drag",
    title: "Drag a point",
    text: "The flow is live: the server retrains it whenever the scene changes. Drag any blue or orange dot. Its "
      + "grey line follows at once, and a moment later its path, and the paths near it, are redrawn by the "
      + "retrained network.",
    ask: "Drag a dot somewhere new, with the mouse or a finger.",
    enter: (l) => {
      l.show(0);
      l.dragBase = l.app.lastDragSeq ?? 0;
    },
    check: (l) => {
      const seq = l.app.lastDragSeq ?? 0;
      const ok = seq > l.dragBase && (l.app.appliedSeq ?? 0) >= seq;
      const latency = l.app.lastLatency;
      const figure = ok ? `The retrained flow showed your drag ${latency === null ? "" : `${Math.round(latency)} ms after you moved. `}`
        + "Every path moved with it." : null;
      return { ok, figure, values: { seq, applied: l.app.appliedSeq, latency } };
    },
  },
  {
    id: "steps",
    title: "One big step misses, small steps land",
    text: "To make a new sample, start at a noise point and follow the velocity to t = 1. One Euler step jumps "
      + "straight along the first direction; on bent paths it lands beside the data (red ×). The chosen solver "
      + "takes many small steps, follows the bends and lands on the moons.",
    ask: "Compare the two distances to the data (W2: lower is closer).",
    oneStep: true,
    enter: (l) => l.show(0),
    check: (l) => {
      const page = l.quality(0);
      const q = l.serverQuality(0);
      if (!q || !page) return { ok: false, figure: null };
      const s = l.app.state.settings;
      // W2 against the scene's 48 data points is noisy (its floor is near 0.7), so the check reads how far one
      // step lands from where the solver's paths end; the W2 figures come with it.
      const gap = meanGap(page.one, page.chosen);
      const ok = gap >= MISS;
      return {
        ok,
        figure: `One Euler step lands ${num(gap)} from where the paths end. W2 to the data: 1 step ${num(q.w2One)} · `
          + `${s.steps} ${s.solver} steps ${num(q.w2Chosen)}.`,
        values: { gap, w2One: q.w2One, w2Chosen: q.w2Chosen, from: q.from },
      };
    },
  },
  {
    id: "reflow",
    title: "Reflow straightens the paths",
    text: "Reflow takes the pairs the flow itself makes, each noise point x0 with the end z1 of its path (green "
      + "dashes), and trains a new flow, 2-RF, on them. Those pairs hardly cross, so there is little to average "
      + "away, and the new paths come out nearly straight.",
    ask: "Press Reflow, and press it again if the paths still bend.",
    action: "reflow",
    enter: (l) => l.show(l.latestRf() > 0 ? l.latestRf() : 0, { newPairs: true }),
    check: (l) => {
      const first = l.app.rounds[0]?.metrics?.straightness ?? null;
      const later = l.app.rounds.filter((r) => r.index > 0 && r.kind === "rf" && r.metrics?.straightness != null);
      if (first === null || !later.length) return { ok: false, figure: null };
      const best = later.reduce((a, b) => (b.metrics.straightness < a.metrics.straightness ? b : a));
      const value = best.metrics.straightness;
      const ok = value <= first / 10;
      const figure = `Straightness (0 is straight): 1-RF ${num(first)} → ${best.name} ${num(value)}, ${(first / value).toFixed(0)}× straighter.`;
      return { ok, figure, values: { first, best: value, round: best.name } };
    },
  },
  {
    id: "one-step",
    title: "Now one step lands",
    text: "On a straight path the first direction is the whole way, so a single Euler step lands where the full "
      + "path ends. That is what rectifying buys: a sample for one network call instead of dozens.",
    ask: "Compare where one step lands for 1-RF and for the straightened flow.",
    oneStep: true,
    enter: (l) => l.show(Math.max(0, l.latestRf())),
    check: (l) => {
      const k = l.latestRf();
      const first = l.quality(0);
      const later = k > 0 ? l.quality(k) : null;
      if (!first || !later) return { ok: false, figure: null };
      // how far one step lands from where the round's own paths end
      const firstGap = meanGap(first.one, first.chosen);
      const laterGap = meanGap(later.one, later.chosen);
      // W2 against the scene's few data points is noisy (its floor is near 0.7 at 48 points), so the check
      // reads where one step lands against the round's own path ends; the W2 figures come with it.
      const ok = laterGap <= 0.3 * firstGap;
      const name = l.app.rounds[k].name;
      const w2First = l.serverQuality(0)?.w2One ?? null;
      const w2Later = l.serverQuality(k)?.w2One ?? null;
      const w2 = w2First !== null && w2Later !== null ? `W2 ${num(w2First)} for 1-RF → ${num(w2Later)} for ${name}. ` : "";
      return {
        ok,
        figure: `One Euler step: ${w2}It lands ${num(laterGap)} from where ${name}'s paths end (1-RF's: `
          + `${num(firstGap)}).`,
        values: { first: w2First, later: w2Later, firstGap, laterGap, round: name },
      };
    },
  },
  {
    id: "distill",
    title: "Distill: one step by design",
    text: "Distillation trains a fresh network to jump from x0 to the end of its teacher's path in a single step. "
      + "Its one step is all there is, and it lands where the teacher's paths end.",
    ask: "Press Distill.",
    action: "distill",
    oneStep: true,
    enter: (l) => {
      const d = l.distilled();
      l.show(d ?? Math.max(0, l.latestRf()));
    },
    check: (l) => {
      const d = l.distilled();
      if (d === null) return { ok: false, figure: null };
      const teacherName = l.app.rounds[d].name.replace(/^distill /, "");
      const teacher = l.app.rounds.find((r) => r.name === teacherName && r.kind === "rf");
      const student = l.quality(d);
      const master = teacher ? l.quality(teacher.index) : null;
      const first = l.quality(0);
      if (!student || !master || !first) return { ok: false, figure: null };
      const gap = meanGap(student.one, master.chosen);
      const firstGap = meanGap(first.one, first.chosen);
      const ok = gap <= 0.5 * firstGap;
      const figure = `One step of the distilled net lands ${num(gap)} from where ${teacherName}'s paths end `
        + `(1-RF's one step: ${num(firstGap)} away).`;
      return { ok, figure, values: { gap, firstGap, w2One: l.serverQuality(d)?.w2One ?? null } };
    },
  },
  {
    id: "yours",
    title: "Your turn",
    text: "That is rectified flow: pair noise with data, learn the average velocity, and reflow until paths are "
      + "straight enough for one step. Try another target under Scene, paint your own with Draw target, or "
      + "switch on the field and particles under View to see the whole velocity field.",
    ask: "Close the tour when you are ready.",
    enter: (l) => l.show(Math.max(0, l.latestRf())),
    check: () => ({ ok: true, figure: "You finished the tour." }),
  },
];

export class Lesson {
  /** @param {any} app the page's App (main.js) */
  constructor(app) {
    this.app = app;
    this.active = false;
    this.index = 0;
    this.passed = STEPS.map(() => false);
    /** the last result of each step whose check held */
    this.held = STEPS.map(() => null);
    this.result = { ok: false, figure: null, values: {} };
    this.dragBase = 0;
    this.timer = null;
    this.panel = this.build();
  }

  build() {
    const panel = document.createElement("section");
    panel.id = "lesson";
    panel.className = "lesson";
    panel.hidden = true;
    panel.tabIndex = -1;
    panel.setAttribute("aria-label", "guided tour");
    panel.innerHTML = `
      <div class="lesson-head"><span class="lesson-count"></span><h2 class="lesson-title"></h2>
        <button type="button" id="lesson-close" class="lesson-close" title="close the tour (Esc)" aria-label="close the tour">×</button></div>
      <p class="lesson-text"></p>
      <p class="lesson-ask"></p>
      <p class="lesson-figure" aria-live="polite"></p>
      <div class="lesson-buttons">
        <button type="button" id="lesson-back" title="previous step (Page Up)">Back</button>
        <button type="button" id="lesson-action" class="primary"></button>
        <button type="button" id="lesson-next" title="next step (Page Down)">Next</button>
      </div>`;
    const q = (sel) => panel.querySelector(sel);
    this.parts = {
      count: q(".lesson-count"), title: q(".lesson-title"), text: q(".lesson-text"), ask: q(".lesson-ask"),
      figure: q(".lesson-figure"), back: q("#lesson-back"), next: q("#lesson-next"), action: q("#lesson-action"),
    };
    q("#lesson-close").addEventListener("click", () => this.stop());
    this.parts.back.addEventListener("click", () => this.go(this.index - 1));
    this.parts.next.addEventListener("click", () => (this.index === STEPS.length - 1 ? this.stop() : this.go(this.index + 1)));
    this.parts.action.addEventListener("click", () => this.act());
    panel.addEventListener("keydown", (event) => {
      // Inside the panel the arrow keys page through the lesson (elsewhere they scrub t).
      if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
        this.go(this.index + (event.key === "ArrowRight" ? 1 : -1));
        event.preventDefault();
        event.stopPropagation();
      } else if (event.key === "Escape") {
        this.stop();
      }
    });
    document.addEventListener("keydown", (event) => {
      if (!this.active || event.target.closest?.("input, select, textarea")) return;
      if (event.key === "PageDown" || event.key === "PageUp") {
        this.go(this.index + (event.key === "PageDown" ? 1 : -1));
        event.preventDefault();
      }
    });
    return panel;
  }

  /** Open the lesson at its first step, on the lesson's scene. */
  start() {
    this.active = true;
    this.panel.hidden = false;
    this.useScene();
    this.go(0);
    this.panel.focus({ preventScroll: true });
    this.panel.scrollIntoView({ block: "nearest" });
    clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), CHECK_MS);
  }

  stop() {
    this.active = false;
    this.panel.hidden = true;
    clearInterval(this.timer);
    this.timer = null;
    this.app.dirty = true;
  }

  go(index) {
    if (index < 0 || index >= STEPS.length) return;
    this.index = index;
    const step = STEPS[index];
    this.result = { ok: false, figure: null, values: {} };
    const p = this.parts;
    p.count.textContent = `Step ${index + 1} of ${STEPS.length}`;
    p.title.textContent = step.title;
    p.text.textContent = step.text;
    p.ask.textContent = step.ask;
    p.back.disabled = index === 0;
    p.action.hidden = !step.action;
    p.action.textContent = step.action === "distill" ? "Distill" : "Reflow";
    p.action.title = step.action === "distill" ? "train a network that makes each sample in one step"
      : "train the next round on the pairs (x0, z1) this flow makes";
    step.enter?.(this);
    this.tick();
  }

  /** Re-check the open step and show its figure. */
  tick() {
    if (!this.active) return;
    const step = STEPS[this.index];
    let result;
    try {
      result = step.check(this);
    } catch (error) {
      result = { ok: false, figure: null, values: { error: error.message } };
    }
    if (result.ok) {
      this.passed[this.index] = true;
      this.held[this.index] = result;
    }
    // A step that has held keeps showing its figure while the numbers move on (another drag, say).
    this.result = result.ok || !this.passed[this.index] ? result : this.held[this.index];
    const done = this.passed[this.index];
    const p = this.parts;
    p.figure.textContent = this.result.figure ? `${done ? "✓ " : ""}${this.result.figure}` : "Waiting for the live numbers…";
    p.figure.classList.toggle("done", done);
    p.action.hidden = !step.action || done; // done: pressing again would only train one more round
    const last = this.index === STEPS.length - 1;
    p.next.textContent = last ? "Finish" : done ? "Next" : "Skip";
    p.next.title = last ? "close the tour" : done ? "next step (Page Down)" : "skip this step (Page Down)";
    if (step.oneStep) this.app.dirty = true;
  }

  /** The offered action: Reflow or Distill (from the latest RF round, since a distilled net cannot be reflowed). */
  act() {
    const step = STEPS[this.index];
    const shown = this.app.rounds[this.app.snapshot?.round];
    if (shown?.kind === "distill" || this.app.randomView) this.app.selectRound(Math.max(0, this.latestRf()));
    this.app.connection.send({ type: step.action });
  }

  /** Put the lesson's scene in place (kept when it is already there, so the rounds trained so far stay). */
  useScene() {
    const app = this.app;
    const s = app.state.settings;
    if (s.mode !== LESSON_SCENE.mode) app.changeSetting("mode", LESSON_SCENE.mode);
    const same = ["source", "target", "n", "seed"].every((k) => s[k] === LESSON_SCENE[k]) && !app.state.edited;
    if (!same) {
      if (s.seed !== LESSON_SCENE.seed) app.connection.send({ type: "set_config", config: { seed: LESSON_SCENE.seed } });
      Object.assign(s, LESSON_SCENE);
      app.nextSceneEdited = false;
      app.sendScene({ kind: "preset", source: s.source, target: s.target, n: s.n, seed: s.seed });
      syncControls(app.state);
    }
  }

  /** Show a round (or "random") with the calm layers plus `extra`. */
  show(round, extra = {}) {
    const app = this.app;
    Object.assign(app.state.view.layers, CALM_LAYERS, extra);
    app.state.view.field = "off";
    app.state.view.playing = true;
    if (round === "random" ? !app.randomView : app.randomView || app.snapshot?.round !== round) {
      if (round === "random" || app.rounds[round]) app.selectRound(round);
    }
    syncControls(app.state);
    app.resetParticles();
    app.fieldKey = "";
    app.dirty = true;
  }

  latestRf() {
    const rf = this.app.rounds.filter((r) => r.kind === "rf");
    return rf.length ? rf[rf.length - 1].index : -1;
  }

  distilled() {
    const d = this.app.rounds.filter((r) => r.kind === "distill");
    return d.length ? d[d.length - 1].index : null;
  }

  /** One-step and chosen-solver samples of round `index`, traced in the page (null before its weights arrive). */
  quality(index) {
    const stored = this.app.roundWeights.get(index);
    if (!stored || !this.app.state.count) return null;
    return roundQuality(stored, this.app.state, this.app.state.settings);
  }

  /**
   * The server's sample quality of round `index` (metrics `quality`, docs/protocol.md: W2 at one Euler step and
   * with the chosen solver, on up to 256 of the scene's pairs), or null before it arrives.
   */
  serverQuality(index) {
    const quality = this.app.rounds[index]?.quality;
    const one = quality?.euler?.find((e) => e.steps === 1)?.w2;
    const chosen = quality?.chosen?.w2;
    return one != null && chosen != null ? { w2One: one, w2Chosen: chosen, from: "server" } : null;
  }

  /** Marks of the open step drawn over the scene: where one Euler step takes each noise point. */
  draw(ctx, view) {
    if (!this.active || !STEPS[this.index].oneStep || this.app.randomView) return;
    const q = this.quality(this.app.snapshot?.round ?? 0);
    if (!q) return;
    const size = 4 * view.dpr * (view.marks ?? 1);
    ctx.strokeStyle = ONE_STEP_COLOR;
    ctx.lineWidth = 1.5 * view.dpr * (view.marks ?? 1);
    ctx.beginPath();
    for (const [x, y] of q.one) {
      const px = view.px(x);
      const py = view.py(y);
      ctx.moveTo(px - size, py - size);
      ctx.lineTo(px + size, py + size);
      ctx.moveTo(px - size, py + size);
      ctx.lineTo(px + size, py - size);
    }
    ctx.stroke();
  }

  /** Whether the open step draws one-step landings (for the legend). */
  get drawsOneStep() {
    return this.active && Boolean(STEPS[this.index].oneStep) && !this.app.randomView;
  }

  /** For the test hook. */
  summary() {
    return {
      active: this.active,
      step: this.index,
      id: STEPS[this.index].id,
      total: STEPS.length,
      ok: this.result.ok,
      passed: this.passed[this.index],
      passedSteps: STEPS.filter((_, i) => this.passed[i]).map((s) => s.id),
      figure: this.result.figure,
      values: { ...this.result.values },
    };
  }
}
