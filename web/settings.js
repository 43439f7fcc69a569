// The page's settings table (TensorFlow Playground's state.ts is the model): each setting's type, the key a share
// link stores it under, where it travels on the wire and what a change of it does. Its control is the element
// whose id is the setting's key. The values are not here: the server's `ready.defaults` gives them
// (docs/protocol.md), so page and server start from the same ones.

/**
 * @typedef {Object} Setting
 * @property {string} key the name in the server's scene or config, and the id of the setting's control
 * @property {"number" | "string"} type
 * @property {string} link the key a share link stores it under
 * @property {boolean} scene part of a preset scene (set_scene)
 * @property {boolean} config part of the session's config (set_config)
 * @property {"net" | "scene" | "train" | "keep"} effect what a change does to the trained rounds: a new net or a
 *   new scene starts every round over, "train" retrains the shown round (the rounds after it are dropped),
 *   "keep" drops none (docs/protocol.md, "Config")
 */

/** @param {string} key @param {"number" | "string"} type */
const setting = (key, type, { scene = false, config = true, effect = "keep" } = {}) =>
  Object.freeze({ key, type, link: key, scene, config, effect });

/** @type {readonly Setting[]} */
export const SETTINGS = Object.freeze([
  setting("source", "string", { scene: true, config: false, effect: "scene" }),
  setting("target", "string", { scene: true, config: false, effect: "scene" }),
  setting("n", "number", { scene: true, config: false, effect: "scene" }),
  // "apart": the noise drawn left of the origin and the data right of it; "overlaid": both on it
  setting("placement", "string", { scene: true, config: false, effect: "scene" }),
  // one seed for the scene's samples and the net
  setting("seed", "number", { scene: true, effect: "net" }),
  setting("width", "number", { effect: "net" }),
  setting("depth", "number", { effect: "net" }),
  setting("activation", "string", { effect: "net" }),
  setting("lr", "number", { effect: "train" }),
  setting("time_sampling", "string", { effect: "train" }),
  setting("warp_s", "number", { effect: "train" }),
  setting("solver", "string"),
  setting("steps", "number"),
  setting("mode", "string", { effect: "train" }),
  setting("coupling", "string"),
]);

const BY_KEY = new Map(SETTINGS.map((s) => [s.key, s]));

/** Every setting's key. */
export const SETTING_KEYS = SETTINGS.map((s) => s.key);
/** The settings of a preset scene, and of the session's config. */
export const SCENE_KEYS = SETTINGS.filter((s) => s.scene).map((s) => s.key);
export const CONFIG_KEYS = SETTINGS.filter((s) => s.config).map((s) => s.key);

/** @returns {Setting | undefined} */
export function settingOf(key) {
  return BY_KEY.get(key);
}

/**
 * The table's values from the server's `ready.defaults` ({scene, config}), or null when it sends none.
 * @param {{scene: Record<string, any>, config: Record<string, any>} | undefined} defaults
 */
export function defaultsFrom(defaults) {
  if (!defaults) return null;
  const values = { ...defaults.scene, ...defaults.config };
  return Object.fromEntries(SETTINGS.filter((s) => typeof values[s.key] === s.type).map((s) => [s.key, values[s.key]]));
}

/** The values among `values` (keyed by link key) that name a setting and have its type, keyed by setting. */
export function fromLink(values) {
  return Object.fromEntries(SETTINGS.filter((s) => typeof values[s.link] === s.type).map((s) => [s.key, values[s.link]]));
}

/**
 * The settings a share link stores, keyed by link key: those that differ from `defaults` (every one that is set,
 * when the server sent no defaults); `always` names settings stored even at their default.
 */
export function toLink(settings, defaults, always = []) {
  const stored = SETTINGS.filter((s) => settings[s.key] !== undefined
    && (always.includes(s.key) || !defaults || settings[s.key] !== defaults[s.key]));
  return Object.fromEntries(stored.map((s) => [s.link, settings[s.key]]));
}

/** The settings among `keys` that have a value, as a message's fields. */
export function present(settings, keys) {
  return Object.fromEntries(keys.filter((key) => settings[key] !== undefined).map((key) => [key, settings[key]]));
}
