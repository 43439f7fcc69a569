// The one state object of the page: training settings, view settings and the scene's points, with undo /
// redo of point edits and (de)serialization for share links.

import { fromLink, toLink } from "./settings.js";

/** Defaults of the view (what is drawn and how time moves); shared too. */
export const DEFAULT_VIEW = Object.freeze({
  t: 0,
  speed: 0.25,
  playing: true,
  loop: true,
  /** dense particles; 0 is automatic (many on WebGPU, fewer in plain JS) */
  particles: 0,
  field: "off",
  layers: Object.freeze({
    pairs: true,
    trajectories: true,
    moving: true,
    endpoints: false,
    newPairs: false,
    particles: false,
    samples: true,
  }),
});

/**
 * The range of a setting, as the server's `ready.limits.bounds` gives it (docs/protocol.md, "Setting bounds").
 * @typedef {{label: string, integer: boolean, ge?: number, gt?: number, le?: number, lt?: number}} Bound
 */

/** A bound in plain words, the same as the server's (server/rftoy/protocol/bounds.py `words`). */
export function boundWords(bound, whole = false) {
  const low = "ge" in bound ? ["at least", bound.ge] : "gt" in bound ? ["above", bound.gt] : null;
  const high = "le" in bound ? ["at most", bound.le] : "lt" in bound ? ["below", bound.lt] : null;
  const kind = whole ? "a whole number " : "";
  if (low?.[0] === "at least" && high?.[0] === "at most") return `${bound.label} must be ${kind}between ${low[1]} and ${high[1]}`;
  return `${bound.label} must be ${kind}${[low, high].filter(Boolean).map(([side, v]) => `${side} ${v}`).join(" and ")}`.trim();
}

/**
 * Why `value` is refused for setting `key`, in plain words, or null when it is within the server's bounds (or
 * the setting has none).
 * @param {Record<string, Bound> | null} bounds
 */
export function settingRefusal(bounds, key, value) {
  const bound = bounds?.[key];
  if (!bound || typeof value !== "number") return null;
  if (!Number.isFinite(value) || (bound.integer && !Number.isInteger(value))) return boundWords(bound, bound.integer);
  const inside = !(("ge" in bound && value < bound.ge) || ("gt" in bound && value <= bound.gt)
    || ("le" in bound && value > bound.le) || ("lt" in bound && value >= bound.lt));
  return inside ? null : boundWords(bound);
}

/** Decimal places kept for edited coordinates, so that a shared scene restores exactly. */
const COORD_DECIMALS = 4;

export function roundCoord(v) {
  const f = 10 ** COORD_DECIMALS;
  return Math.round(v * f) / f;
}

/**
 * @typedef {[number, number]} Point
 * @typedef {{kind: "move", cloud: "x0" | "x1", index: number, from: Point, to: Point}
 *   | {kind: "add", index: number, x0: Point, x1: Point}
 *   | {kind: "remove", index: number, x0: Point, x1: Point}} Edit
 *   One undoable change of the scene's points.
 */

export class SceneState {
  constructor() {
    /**
     * the settings of the table in settings.js, by key; before the server is ready only those a link sets (the
     * server fills the rest: they arrive with `ready`)
     * @type {Record<string, number | string>}
     */
    this.settings = {};
    /** the settings' defaults, from the server's `ready.defaults` (null until then, or if it sends none) */
    this.defaults = null;
    this.view = { ...DEFAULT_VIEW, layers: { ...DEFAULT_VIEW.layers } };
    /** @type {Point[]} noise samples */
    this.x0 = [];
    /** @type {Point[]} data samples, paired i ↔ i with x0 */
    this.x1 = [];
    /** true once the user moved, added, removed or drew points (the link must then carry them) */
    this.edited = false;
    /** @type {Edit[]} */
    this.undoStack = [];
    /** @type {Edit[]} */
    this.redoStack = [];
    /** the edit each undo's inverse took back (to put it back if the server refuses the inverse) */
    this.undone = new WeakMap();
  }

  get count() {
    return this.x0.length;
  }

  /** Replace the points (from the server or a link); clears the edit history. */
  setPoints(x0, x1, edited) {
    this.x0 = x0.map((p) => [p[0], p[1]]);
    this.x1 = x1.map((p) => [p[0], p[1]]);
    this.edited = edited;
    this.undoStack = [];
    this.redoStack = [];
  }

  /**
   * Apply a new edit and record it for undo; a new `add` appends (an undone `remove` re-inserts at its index).
   * @returns {Edit} the edit as applied
   */
  apply(edit) {
    const applied = edit.kind === "add" ? { ...edit, index: this.count } : edit;
    this.applyRaw(applied);
    this.undoStack.push(applied);
    this.redoStack = [];
    this.edited = true;
    return applied;
  }

  /** @returns {Edit | null} the edit that undid the last one (to send to the server), or null */
  undo() {
    const edit = this.undoStack.pop();
    if (!edit) return null;
    const applied = inverse(edit);
    this.applyRaw(applied);
    this.redoStack.push(edit);
    this.undone.set(applied, edit);
    this.edited = true;
    return applied;
  }

  /** @returns {Edit | null} the edit redone (to send to the server), or null */
  redo() {
    const edit = this.redoStack.pop();
    if (!edit) return null;
    this.applyRaw(edit);
    this.undoStack.push(edit);
    return edit;
  }

  /**
   * Take back an applied edit that the server refused: the points return, and the history is as before it.
   * @param {Edit} edit as returned by apply, undo or redo
   */
  revert(edit) {
    this.applyRaw(inverse(edit));
    const undone = this.undone.get(edit);
    const [from, to] = undone ? [this.redoStack, this.undoStack] : [this.undoStack, null];
    const entry = undone ?? edit;
    const at = from.lastIndexOf(entry);
    if (at >= 0) from.splice(at, 1);
    if (to) to.push(entry);
  }

  /** @param {Edit} edit */
  applyRaw(edit) {
    if (edit.kind === "move") {
      this[edit.cloud][edit.index] = [...edit.to];
    } else if (edit.kind === "add") {
      this.x0.splice(edit.index, 0, [...edit.x0]);
      this.x1.splice(edit.index, 0, [...edit.x1]);
    } else {
      this.x0.splice(edit.index, 1);
      this.x1.splice(edit.index, 1);
    }
  }

  /**
   * The shareable part of the state as a plain object: the settings that differ from the defaults (an edited
   * scene's preset names always, as its points are sent with them), the view's, and the points if edited.
   */
  toShared() {
    const always = this.edited ? ["source", "target", "placement"] : ["placement"];
    const shared = { v: 1, settings: toLink(this.settings, this.defaults, always) };
    const view = diff({ ...this.view, layers: undefined }, DEFAULT_VIEW);
    const layers = diff(this.view.layers, DEFAULT_VIEW.layers);
    if (Object.keys(layers).length) view.layers = layers;
    if (Object.keys(view).length) shared.view = view;
    if (this.edited) {
      shared.x0 = this.x0.map((p) => p.map(roundCoord));
      shared.x1 = this.x1.map((p) => p.map(roundCoord));
    }
    return shared;
  }

  /** Restore settings (those the link sets), view and (if present) points from `toShared()`'s output. */
  fromShared(shared) {
    this.settings = fromLink(shared.settings || {});
    // every link stores the placement; one without it was made before placements, when scenes were overlaid
    if (shared.settings) this.settings.placement ??= "overlaid";
    const view = shared.view || {};
    this.view = {
      ...DEFAULT_VIEW,
      ...pick(view, DEFAULT_VIEW),
      layers: { ...DEFAULT_VIEW.layers, ...pick(view.layers || {}, DEFAULT_VIEW.layers) },
    };
    if (Array.isArray(shared.x0) && Array.isArray(shared.x1) && shared.x0.length === shared.x1.length) {
      this.setPoints(shared.x0, shared.x1, true);
    }
  }
}

/**
 * The edit that undoes `edit`; a removed pair is re-added at its old index (the server inserts it there).
 * @param {Edit} edit
 */
function inverse(edit) {
  if (edit.kind === "move") return { ...edit, from: edit.to, to: edit.from };
  if (edit.kind === "add") return { ...edit, kind: "remove" };
  return { ...edit, kind: "add" };
}

function diff(values, defaults) {
  const out = {};
  for (const key of Object.keys(defaults)) {
    if (values[key] !== undefined && typeof values[key] !== "object" && values[key] !== defaults[key]) {
      out[key] = values[key];
    }
  }
  return out;
}

/** Keep only known keys whose type matches the default's. */
function pick(values, defaults) {
  const out = {};
  for (const key of Object.keys(defaults)) {
    if (key in values && typeof values[key] === typeof defaults[key] && typeof values[key] !== "object") {
      out[key] = values[key];
    }
  }
  return out;
}

function toBase64Url(bytes) {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function fromBase64Url(text) {
  const raw = atob(text.replaceAll("-", "+").replaceAll("_", "/"));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/** JSON → deflate-raw → base64url, for the `#s=` link form. */
export async function compress(value) {
  const stream = new Blob([JSON.stringify(value)]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  return toBase64Url(new Uint8Array(await new Response(stream).arrayBuffer()));
}

export async function decompress(text) {
  const stream = new Blob([fromBase64Url(text)]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return JSON.parse(await new Response(stream).text());
}
