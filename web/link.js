// Share links (docs/web.md): the whole state in the link itself (`#s=`), or, when that is too long, a scene
// stored on the server (`?scene=<id>`) with the view settings in `#v=` and the rounds in `#r=`. A link keeps
// the shown round and the compared one: on open, the rounds are trained again from the same seeds (each round
// once its teacher has converged, as the user made them), then the shown round is selected (`RoundReplay`).

import { saveScene } from "./socket.js";
import { compress, decompress } from "./state.js";

/** Links longer than this store the scene on the server instead. */
const MAX_LINK_CHARS = 1800;
/** Round kinds a link can rebuild, and the message that makes each from the round before it. */
const MAKES = { rf: "reflow", distill: "distill" };

/**
 * The rounds a link rebuilds: each round's kind in order (the first is 1-RF), the round shown ("random" for
 * the random pairing's tab) and the round compared (or null).
 * @typedef {{chain: string[], shown: number | "random", compared: number | null}} RoundPlan
 */

/** The stored scene the page's link names (`?scene=<id>`), or null. */
export function linkedSceneId() {
  return new URLSearchParams(location.search).get("scene");
}

/** A link's round plan if it is well formed and can be rebuilt, else null. */
function checkPlan(plan) {
  if (!plan || !Array.isArray(plan.chain) || plan.chain[0] !== "rf") return null;
  if (!plan.chain.every((kind, i) => MAKES[kind] && (i === 0 || plan.chain[i - 1] === "rf"))) return null;
  const index = (value) => Number.isInteger(value) && value >= 0 && value < plan.chain.length;
  return {
    chain: plan.chain,
    shown: plan.shown === "random" || index(plan.shown) ? plan.shown : plan.chain.length - 1,
    compared: index(plan.compared) ? plan.compared : null,
  };
}

/**
 * Restore settings, view and points from the page's link into `state`; throws if the link cannot be read.
 * @param {import("./state.js").SceneState} state
 * @returns {Promise<RoundPlan | null>} the rounds to rebuild, if the link has some
 */
export async function readLink(state) {
  const hash = new URLSearchParams(location.hash.slice(1));
  let plan = null;
  if (hash.get("s")) {
    const shared = await decompress(hash.get("s"));
    state.fromShared(shared);
    plan = shared.rounds;
  }
  if (hash.get("v")) state.fromShared({ view: await decompress(hash.get("v")) });
  if (hash.get("r")) plan = await decompress(hash.get("r"));
  return checkPlan(plan);
}

/**
 * A link that restores `state` and the rounds of `plan`.
 * @param {import("./state.js").SceneState} state
 * @param {() => object} pointsScene the scene as explicit points, stored when the link would be too long
 * @param {object} config the config patch stored with it
 * @param {RoundPlan} plan
 */
export async function makeLink(state, pointsScene, config, plan) {
  const shared = state.toShared();
  const keepRounds = plan.chain.length > 1 || plan.shown === "random";
  if (keepRounds) shared.rounds = plan;
  const page = `${location.origin}${location.pathname}`;
  const url = `${page}#s=${await compress(shared)}`;
  if (url.length <= MAX_LINK_CHARS) return url;
  const id = await saveScene(pointsScene(), config);
  const hash = new URLSearchParams();
  if (shared.view) hash.set("v", await compress(shared.view));
  if (keepRounds) hash.set("r", await compress(plan));
  return `${page}?scene=${id}${hash.size ? `#${hash}` : ""}`;
}

/**
 * Rebuilds a link's rounds on the live session, one snapshot at a time: when the newest round has converged
 * it asks for the next (reflow or distill), and once all exist it shows the linked round. It gives up (and
 * says so) if the session's rounds stop matching the plan, e.g. after the user changed the scene.
 */
export class RoundReplay {
  /** @param {RoundPlan} plan */
  constructor(plan) {
    this.plan = plan;
    /** how many rounds existed when the last round was asked for (each is asked for once) */
    this.asked = 1;
    this.done = false;
  }

  /**
   * The next step after a snapshot.
   * @param {import("./socket.js").Snapshot} snapshot
   * @returns {{send?: object, finish?: RoundPlan, status: string}}
   */
  next(snapshot) {
    const { chain } = this.plan;
    const have = snapshot.rounds;
    const matches = have.length <= chain.length && have.every((r, i) => r.kind === chain[i]);
    if (!matches || snapshot.round !== have.length - 1) {
      this.done = true;
      return { status: "the link's rounds were not rebuilt: the scene or the rounds changed first" };
    }
    const newest = have[have.length - 1];
    if (have.length === chain.length) {
      // showing an earlier round stops the newest one's training: it converges first
      const last = chain.length - 1;
      if (!newest.converged && this.plan.shown !== last && this.plan.shown !== "random") return { status: this.progress(have) };
      this.done = true;
      return { finish: this.plan, status: "" };
    }
    if (newest.converged && this.asked === have.length) {
      this.asked = have.length + 1;
      return { send: { type: MAKES[chain[have.length]] }, status: this.progress(have) };
    }
    return { status: this.progress(have) };
  }

  progress(have) {
    const newest = have[have.length - 1];
    return `rebuilding this link's rounds from the same seeds: training ${newest.name} (${have.length} of ${this.plan.chain.length})…`;
  }
}
