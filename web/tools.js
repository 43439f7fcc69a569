// The canvas tools besides dragging: add mode (a click on empty space adds a pair) and the brush (painted
// strokes become the target, each stroke undoable, the scene before the first one restored by Clear).

import { COLORS } from "./draw.js";
import { normalPoints } from "./sampling.js";
import { roundCoord } from "./state.js";
import { DRAWN_TARGET, pointsScene } from "./scenes.js";

const $ = (id) => document.getElementById(id);

export class CanvasTools {
  /** @param {import("./app.js").App} app */
  constructor(app) {
    this.app = app;
    /** clicking empty canvas adds a pair only in add mode (or with Shift) */
    this.adding = false;
    this.brushing = false;
    /** brush points at the end of each stroke (for undo), and the scene before the first stroke (for clear) */
    this.brushMarks = [];
    this.brushBase = null;
    this.brushPoints = [];
    /** the stroke being painted */
    this.brushStroke = [];
  }

  /** Brush mode on or off; off keeps the drawn target as the scene. Add mode and the brush exclude each other. */
  setBrush(on) {
    this.brushing = on;
    this.brushPoints = [];
    this.brushMarks = [];
    this.brushBase = null;
    if (on) this.setAddMode(false);
    $("brush").setAttribute("aria-pressed", String(on));
    $("brush-bar").hidden = !on;
    $("canvases").classList.toggle("brushing", on);
    this.showHint();
  }

  setAddMode(on) {
    this.adding = on;
    if (on && this.brushing) this.setBrush(false);
    $("add-mode").setAttribute("aria-pressed", String(on));
    $("canvases").classList.toggle("adding", on);
    this.showHint();
  }

  /** The canvas hint says how to add a pair in the current mode. */
  showHint() {
    $("hint").textContent = this.brushing
      ? "drawing the target: paint with the pointer · Undo stroke takes back the last one"
      : this.adding
        ? "add mode: click or tap empty space to add a pair · drag a point · double-click a point to remove its pair"
        : "drag a point · Shift+click empty space (or Add pairs) to add a pair · double-click a point to remove its pair";
  }

  /** The stroke being painted, drawn until it is sent. */
  preview(points) {
    this.brushStroke = points;
    this.app.dirty = true;
  }

  /** A brush stroke: the painted points (all strokes so far) become the data, paired with fresh noise. */
  paint(points) {
    this.brushStroke = [];
    const before = this.brushPoints.length;
    this.brushPoints.push(...points.map((p) => p.map(roundCoord)));
    this.brushMarks.push(this.brushPoints.length);
    const takeBack = () => {
      this.brushPoints.length = before;
      this.brushMarks.pop();
      this.app.dirty = true;
    };
    this.app.guarded("drawing a new target", 1, () => this.sendBrushScene(before), "", takeBack);
    this.app.dirty = true;
  }

  /** The brush points so far as the scene; `brushed`: points before this stroke (kept if the server refuses). */
  sendBrushScene(brushed) {
    const { state, limits, scenes } = this.app;
    const max = limits?.max_points ?? 4096;
    const x1 = this.brushPoints.slice(0, max);
    if (x1.length < 2) return;
    const x0 = normalPoints(x1.length, state.settings.seed).map((p) => p.map(roundCoord));
    const s = state.settings;
    const copy = (points) => points.map((p) => [...p]);
    this.brushBase ??= {
      x0: copy(state.x0), x1: copy(state.x1), source: s.source, target: s.target, placement: s.placement,
      edited: state.edited,
    };
    scenes.nextEdited = true;
    // the painted data with noise drawn around the origin: an overlaid scene
    scenes.send(pointsScene(x0, x1, "gaussian", DRAWN_TARGET, "overlaid"), brushed);
  }

  /** Take back the last brush stroke: the strokes before it become the scene (or the scene before drawing). */
  undoStroke() {
    if (!this.brushMarks.length) return;
    this.brushMarks.pop();
    this.brushPoints.length = this.brushMarks.at(-1) ?? 0;
    if (this.brushPoints.length >= 2) this.sendBrushScene(this.brushPoints.length);
    else this.restoreBrushBase();
    this.app.dirty = true;
  }

  /** Clear every stroke: the scene goes back to what it was before drawing. */
  clearDrawing() {
    this.brushPoints = [];
    this.brushMarks = [];
    this.restoreBrushBase();
    this.app.dirty = true;
  }

  restoreBrushBase() {
    const base = this.brushBase;
    this.brushBase = null;
    if (!base) return;
    const { state, scenes } = this.app;
    scenes.nextEdited = base.edited;
    Object.assign(state.settings, { source: base.source, target: base.target, placement: base.placement });
    scenes.send(pointsScene(base.x0, base.x1, base.source, base.target, base.placement));
  }

  /** The server refused a stroke's scene: the strokes from that one on are dropped. */
  refusedStroke(request) {
    this.brushPoints.length = Math.min(this.brushPoints.length, request.brushed);
    this.brushMarks = this.brushMarks.filter((mark) => mark <= request.brushed);
  }

  /** The painted points so far and the stroke in progress. */
  draw(ctx, view) {
    const points = [...this.brushPoints, ...this.brushStroke];
    if (!points.length) return;
    ctx.fillStyle = COLORS.data;
    for (const [x, y] of points) {
      ctx.fillRect(view.px(x) - 2 * view.dpr, view.py(y) - 2 * view.dpr, 4 * view.dpr, 4 * view.dpr);
    }
  }
}
