// The guided lesson ("Tour", or the link form ?lesson=1): the panel and the runner that pages through the steps
// of lesson_steps.js, re-checks the open one from the live numbers and shows its figure when it holds.

import { syncControls } from "./controls.js";
import { CALM_LAYERS, LESSON_SCENE, STEPS } from "./lesson_steps.js";
import { roundQuality } from "./quality.js";
import { SCENE_KEYS } from "./settings.js";

/** How often the open step re-checks itself. */
const CHECK_MS = 300;
/** Where a one-step sample lands (drawn in steps that compare one step with many). */
const ONE_STEP_COLOR = "#D55E00";

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
    const same = SCENE_KEYS.every((k) => s[k] === LESSON_SCENE[k]) && !app.state.edited;
    if (!same) {
      if (s.seed !== LESSON_SCENE.seed) app.connection.send({ type: "set_config", config: { seed: LESSON_SCENE.seed } });
      Object.assign(s, LESSON_SCENE);
      app.nextSceneEdited = false;
      app.sendScene(app.scenes.preset());
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
