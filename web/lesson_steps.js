// The guided lesson's steps: what each one sets up, says, asks, and the check it makes from the live numbers
// (the server's metrics and sample quality, and where one step and the solver land, traced in the page by
// quality.js). The runner that pages through them is lesson.js.

import { meanGap } from "./quality.js";

/**
 * The lesson's scene: few points in a shape that reads, small enough to train in seconds. Online: the flow learns
 * from fresh samples of the two presets, not the 48 drawn pairs by heart, so one step of 1-RF visibly misses
 * (every noise point jumps toward the data's middle) and the server's W2 figures come from fresh samples too. In
 * pairs mode 1-RF's one step reproduces each noise point's own data point, and every W2 sits near its floor.
 * Overlaid, as the lesson's checks were measured (docs/web.md, "Tour").
 */
export const LESSON_SCENE = Object.freeze({
  source: "gaussian", target: "moons", placement: "overlaid", n: 48, seed: 0, mode: "online",
});
/** The calm layers every step starts from. */
export const CALM_LAYERS = { samples: true, pairs: true, trajectories: true, moving: true, endpoints: false, newPairs: false, particles: false };
/** One Euler step misses when its W2 is this many times the chosen solver's. */
const MISS_RATIO = 1.5;
/** The straightened round's one-step W2 must fall to this share of 1-RF's. */
const LANDS_RATIO = 0.5;

const pct = (x) => `${(100 * x).toFixed(1)} %`;
const num = (x) => (x >= 0.1 ? x.toFixed(2) : x.toPrecision(2));

/**
 * @typedef {Object} Step
 * @property {string} id @property {string} title @property {string} text @property {string} ask
 * @property {"reflow" | "distill"} [action] a button the step offers
 * @property {boolean} [oneStep] draw where one Euler step takes each noise point
 * @property {(lesson: import("./lesson.js").Lesson) => void} [enter]
 * @property {(lesson: import("./lesson.js").Lesson) => {ok: boolean, figure: string | null, values?: object}} check
 */

/** @type {Step[]} */
export const STEPS = [
  {
    id: "random",
    title: "Random pairs cross",
    text: "Blue dots are noise samples x0; orange dots are data samples x1, two moons. Rectified flow starts by "
      + "pairing them, here at random (training draws fresh pairs like these at every step). Each grey line joins a "
      + "pair, and the black dots travel along these straight lines at constant speed as time t runs from 0 to 1.",
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
    ask: "Watch the paths (sky blue turning orange) settle while the network trains.",
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
    text: "The flow is live: it has learned a velocity for every place, so a noise point anywhere has a path. "
      + "Drag a blue dot. Its grey line follows at once, and a moment later the server traces its new path "
      + "through the flow.",
    ask: "Drag a blue dot somewhere new, with the mouse or a finger.",
    enter: (l) => {
      l.show(0);
      l.dragBase = l.app.lastDragSeq ?? 0;
    },
    check: (l) => {
      const seq = l.app.lastDragSeq ?? 0;
      const ok = seq > l.dragBase && (l.app.appliedSeq ?? 0) >= seq;
      const latency = l.app.lastLatency;
      const figure = ok ? `The flow traced your point's new path${latency === null ? "" : ` ${Math.round(latency)} ms after you moved`}.`
        : null;
      return { ok, figure, values: { seq, applied: l.app.appliedSeq, latency } };
    },
  },
  {
    id: "steps",
    title: "One big step misses, small steps land",
    text: "To make a new sample, start at a noise point and follow the velocity to t = 1. One Euler step jumps "
      + "straight along the first direction, and at t = 0 that points every noise point toward the middle of "
      + "the data: they all land in a clump there (red ×). The chosen solver takes many small steps, follows "
      + "the bends and lands on the moons.",
    ask: "Compare where one step lands (red ×) with the moons, and the two distances to the data (W2: lower is closer).",
    oneStep: true,
    enter: (l) => l.show(0),
    check: (l) => {
      const q = l.serverQuality(0);
      if (!q) return { ok: false, figure: null };
      const s = l.app.state.settings;
      return {
        ok: q.w2One >= MISS_RATIO * q.w2Chosen,
        figure: `W2 to the data: 1 step ${num(q.w2One)} · ${s.steps} ${s.solver} steps ${num(q.w2Chosen)}.`,
        values: { w2One: q.w2One, w2Chosen: q.w2Chosen, from: q.from },
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
    // the green dashes are the pairs the next round trains on; the random pairing's grey lines would only blur them
    enter: (l) => l.show(l.latestRf() > 0 ? l.latestRf() : 0, { newPairs: true, pairs: false }),
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
    enter: (l) => l.show(Math.max(0, l.latestRf()), { pairs: false }),
    check: (l) => {
      const k = l.latestRf();
      const w2First = l.serverQuality(0)?.w2One ?? null;
      const w2Later = k > 0 ? l.serverQuality(k)?.w2One ?? null : null;
      const first = l.quality(0);
      const later = k > 0 ? l.quality(k) : null;
      if (w2First === null || w2Later === null || !first || !later) return { ok: false, figure: null };
      // and how far one step lands from where the round's own paths end
      const firstGap = meanGap(first.one, first.chosen);
      const laterGap = meanGap(later.one, later.chosen);
      const name = l.app.rounds[k].name;
      return {
        ok: w2Later <= LANDS_RATIO * w2First,
        figure: `One Euler step: W2 to the data ${num(w2First)} for 1-RF → ${num(w2Later)} for ${name}. It lands `
          + `${num(laterGap)} from where ${name}'s paths end (1-RF's: ${num(firstGap)}).`,
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
      l.show(d ?? Math.max(0, l.latestRf()), { pairs: false });
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
