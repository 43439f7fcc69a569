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
 * The rounds a link rebuilds, each with its kind ("rf" | "distill"), coupling and teacher (the index of the round
 * it was made from; null for a first round), the round shown ("random" for the random pairing's tab) and the
 * round compared (or null).
 * @typedef {{kind: string, coupling: string, teacher: number | null}} PlannedRound
 * @typedef {{chain: PlannedRound[], shown: number | "random", compared: number | null}} RoundPlan
 */

/**
 * The plan's view of a session's rounds (snapshot.rounds, or the page's list): a server that names no teacher
 * keeps its rounds in one line, each made from the one before.
 * @param {{kind: string, coupling?: string, teacher?: number | null}[]} rounds
 * @returns {PlannedRound[]}
 */
export function planOf(rounds) {
  return rounds.map((r, i) => ({
    kind: r.kind,
    coupling: r.coupling ?? "independent",
    teacher: r.teacher === undefined ? (i ? i - 1 : null) : r.teacher,
  }));
}

const same = (a, b) => a.kind === b.kind && a.coupling === b.coupling && a.teacher === b.teacher;

/** The stored scene the page's link names (`?scene=<id>`), or null. */
export function linkedSceneId() {
  return new URLSearchParams(location.search).get("scene");
}

/** A link's round plan if it is well formed, else null. */
function checkPlan(plan) {
  if (!plan || !Array.isArray(plan.chain) || !plan.chain.length) return null;
  const known = (r, i) => r && MAKES[r.kind] && typeof r.coupling === "string"
    && (r.teacher === null || (Number.isInteger(r.teacher) && r.teacher >= 0 && r.teacher < i));
  if (!plan.chain.every(known)) return null;
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
  const keepRounds = plan.chain.length > 1 || plan.shown !== 0 || plan.compared !== null;
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
 * Rebuilds a link's rounds on the live session, one snapshot at a time: once the newest round has converged it
 * selects the next round's teacher (if another) and asks for the next round (reflow or distill); once all exist
 * it shows the linked round. First rounds (1-RF, an OT round) come from the link's scene and config. It gives up
 * (and says so) if the session's rounds stop matching the plan, e.g. after the user changed the scene.
 */
export class RoundReplay {
  /** @param {RoundPlan} plan */
  constructor(plan) {
    this.plan = plan;
    /** the message last sent, by the number of rounds it was sent at (each is sent once) */
    this.sent = "";
    this.done = false;
  }

  /**
   * The next step after a snapshot.
   * @param {import("./socket.js").Snapshot} snapshot
   * @returns {{send?: object, finish?: RoundPlan, status: string}}
   */
  next(snapshot) {
    const { chain } = this.plan;
    const have = planOf(snapshot.rounds);
    if (have.length > chain.length || !have.every((r, i) => same(r, chain[i]))) return this.giveUp();
    const newest = snapshot.rounds[have.length - 1];
    if (have.length === chain.length) {
      // showing an earlier round stops the newest one's training: it converges first
      const last = chain.length - 1;
      if (!newest.converged && this.plan.shown !== last && this.plan.shown !== "random") return { status: this.progress(snapshot) };
      this.done = true;
      return { finish: this.plan, status: "" };
    }
    const wanted = chain[have.length];
    if (wanted.teacher === null) return this.giveUp();
    if (!newest.converged || !snapshot.rounds[wanted.teacher].converged) return { status: this.progress(snapshot) };
    const send = snapshot.round === wanted.teacher
      ? { type: MAKES[wanted.kind] }
      : { type: "select_round", round: wanted.teacher };
    const key = `${have.length}:${send.type}`;
    if (this.sent === key) return { status: this.progress(snapshot) };
    this.sent = key;
    return { send, status: this.progress(snapshot) };
  }

  giveUp() {
    this.done = true;
    return { status: "the link's rounds were not rebuilt: the scene or the rounds changed first" };
  }

  progress(snapshot) {
    const training = snapshot.rounds[snapshot.round]?.name ?? "";
    return `rebuilding this link's rounds from the same seeds: training ${training} (${snapshot.rounds.length} of ${this.plan.chain.length})…`;
  }
}
