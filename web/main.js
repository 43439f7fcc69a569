// The app: starts the compute backend and the session, keeps the state in step with the server's snapshots,
// and runs the animation loop. Installs the read-only test hook `window.rftoy` (hook.js, docs/web.md).

import { bindControls, renderRounds, setPresets, syncControls, syncTime } from "./controls.js";
import { CpuBackend, makeVelocity, traceFlow } from "./cpu.js";
import { COLORS, drawParticles, drawScene, straightFlow } from "./draw.js";
import { exportCsv, exportJson, exportPng, exportWebm, exportWeights } from "./export.js";
import { createGpuBackend } from "./gpu.js";
import { RoundGuard } from "./history.js";
import { installHook } from "./hook.js";
import { linkedSceneId, makeLink, planOf, readLink, RoundReplay } from "./link.js";
import { showLoading } from "./loading.js";
import { drawErrorVsSteps, drawLoss, percentile, renderMetrics } from "./plots.js";
import { attachPointer } from "./pointer.js";
import { Probe } from "./probe.js";
import { renderSampleStrip } from "./samples.js";
import { normalPoints, particleOrigins } from "./sampling.js";
import { Connection, serverDevice } from "./socket.js";
import { roundCoord, SceneState, settingRefusal } from "./state.js";
import { installTeaching, prepareLinkedLesson } from "./teach.js";
import { fitFrame, View } from "./view.js";

const $ = (id) => document.getElementById(id);

/** Particles when the view asks for "automatic" (0): many on a real GPU, fewer in plain JS or SwiftShader. */
const AUTO_PARTICLES = { gpu: 20000, software: 1500 };
/** Field grid columns (rows follow the canvas's aspect). */
const FIELD_COLUMNS = 25;
/** On the JS backend (or a software adapter) the field is re-evaluated at most this often. */
const SOFTWARE_FIELD_MS = 100;
/**
 * Snapshots the server may send before the page acknowledges drawing one (protocol.md, `ack`): a busy page then
 * gets the freshest snapshot instead of a queue of stale ones.
 */
const SNAPSHOT_WINDOW = 1;
/** Edits go out at most this often (about 60 Hz); moves in between are coalesced. */
const MIN_EDIT_INTERVAL_MS = 16;
/** Latency samples kept for the median and 95th percentile. */
const LATENCY_WINDOW = 50;
/**
 * How often the JS backend (or a software WebGPU adapter) may re-trace the particles from t = 0 after new
 * weights while paused, and with at most how many Euler steps; a real GPU re-traces with the chosen solver.
 */
const SOFTWARE_RETRACE_MS = 1000;
const SOFTWARE_RETRACE_STEPS = 8;
/** The target's name in the controls once the user has painted it (not a server preset). */
const DRAWN_TARGET = "drawn";
/** How long "reconnected, your scene was restored" stays up. */
const RECONNECTED_NOTICE_MS = 5000;
const CONFIG_KEYS = ["width", "depth", "activation", "seed", "lr", "time_sampling", "warp_s", "mode", "coupling", "solver", "steps"];
/** Settings that make a new net (every round starts over), a new scene, or retrain the shown round (protocol.md). */
const NET_KEYS = ["width", "depth", "activation", "seed"];
const SCENE_KEYS = ["source", "target", "n"];
const TRAIN_KEYS = ["lr", "batch", "time_sampling", "warp_s", "mode"];
/** A JS particle count that keeps the page under this frame rate for a second is capped (with a note). */
const MIN_PARTICLE_FPS = 20;

class App {
  constructor() {
    this.state = new SceneState();
    this.canvases = { particles: $("particles"), scene: $("scene"), compare: $("compare") };
    this.ctx = this.canvases.scene.getContext("2d");
    this.particleCtx = this.canvases.particles.getContext("2d");
    this.view = new View(1, 1, 1);
    /** @type {import("./cpu.js").CpuBackend | import("./gpu.js").GpuBackend | null} */
    this.backend = null;
    this.backendNote = "";
    this.connection = null;
    this.limits = null;
    /** the whole config as the server last confirmed it */
    this.serverConfig = null;
    this.ready = false;
    /** @type {import("./socket.js").Snapshot | null} */
    this.snapshot = null;
    /** @type {import("./draw.js").Flow | null} */
    this.flow = null;
    this.snapshots = 0;
    /** the seq of a snapshot received and not yet drawn (acknowledged once drawn) */
    this.unacknowledged = null;
    /** @type {import("./plots.js").RoundInfo[]} */
    this.rounds = [];
    /** weights and net of the latest snapshot of each round, by round index */
    this.roundWeights = new Map();
    /** the round whose snapshots are shown, and whether the "random" tab hides them behind the random pairing */
    this.shownRound = null;
    this.randomView = false;
    /** the round drawn beside the shown one (compare), and its flow traced in JS */
    this.compared = null;
    this.compareFlow = null;
    this.field = null;
    /** what the field was last evaluated for (t, snapshot, canvas size), and when */
    this.fieldKey = "";
    this.fieldAt = 0;
    this.fieldBusy = false;
    this.highlight = null;
    /** actions that drop trained rounds ask first (history.js); a link's rounds are rebuilt by `replay` */
    this.guard = new RoundGuard();
    this.replay = null;
    /** each setting's range, from the server (ready.limits.bounds) */
    this.bounds = null;
    /** clicking empty canvas adds a pair only in add mode (or with Shift) */
    this.adding = false;
    /** a JS particle count the page could not draw at MIN_PARTICLE_FPS is capped here (null: no cap) */
    this.particleCap = null;
    this.slowSince = null;
    this.brushing = false;
    /** brush points at the end of each stroke (for undo), and the scene before the first stroke (for clear) */
    this.brushMarks = [];
    this.brushBase = null;
    this.brushPoints = [];
    this.brushStroke = [];
    /** a sample is being dragged */
    this.dragging = false;
    /** moves not yet sent, keyed by cloud and index, with the time of the oldest pointer event */
    this.pendingMoves = new Map();
    this.pendingSince = null;
    this.lastFlush = 0;
    /** send time of each edit seq not yet reflected by a snapshot */
    this.sentAt = new Map();
    /** the undoable edit behind each add/remove/click-move seq not yet applied, to take it back if refused */
    this.sentEdits = new Map();
    /** one entry per set_scene not yet answered (a scene or an error): whether it was a brush stroke */
    this.sceneRequests = [];
    /** source, target and n of the scene the server last confirmed (restored when it refuses a new one) */
    this.confirmedScene = null;
    this.lastSentSeq = null;
    this.appliedSeq = null;
    this.latencies = [];
    this.lastLatency = null;
    this.nextSceneEdited = false;
    this.particleSeed = 1;
    this.particlesStale = true;
    this.particlesTracedAt = 0;
    this.lastT = this.state.view.t;
    this.dirty = true;
    this.frameTimes = [];
    this.fps = 0;
    /** times of particle updates (positions advanced) in the last second */
    this.particleTimes = [];
    this.lastFrame = performance.now();
    this.errors = [];
    /** how often the page reconnected after its session dropped */
    this.reconnects = 0;
    /** while reconnecting: the last scene asked for and not answered before the drop (a reconnect opens it) */
    this.askedScene = null;
  }

  async start() {
    prepareLinkedLesson(this.state);
    const hello = await this.readLink();
    syncControls(this.state);
    this.bindInput();
    this.teaching = installTeaching(this);
    new ResizeObserver(() => this.resize()).observe($("canvases"));
    this.resize();
    showLoading(new URLSearchParams(location.search).get("backend") === "js" ? "Starting…" : "Compiling the WebGPU shaders…");
    await this.startBackend();
    showLoading("Connecting to the server…");
    serverDevice().then(
      (device) => ($("badge-server").textContent = `server: ${device.toUpperCase()}`),
      (error) => console.warn(`rftoy: /api/health: ${error.message}`),
    );
    this.connect(hello);
    requestAnimationFrame((now) => this.frame(now));
  }

  /** Read a share link: `?scene=<id>` (stored scene, view in `#v=`) or `#s=` (the whole state). */
  async readLink() {
    const sceneId = linkedSceneId();
    try {
      const plan = await readLink(this.state);
      if (plan) this.replay = new RoundReplay(plan);
    } catch (error) {
      this.showError(`could not read this link: ${error.message}`);
    }
    this.nextSceneEdited = Boolean(sceneId) || this.state.edited;
    if (sceneId) return { scene_id: sceneId };
    return { scene: this.sceneMessage(), config: this.configPatch() };
  }

  sceneMessage() {
    const s = this.state.settings;
    if (this.state.edited) {
      const preset = (name) => (name === DRAWN_TARGET ? null : name);
      return { kind: "points", x0: this.state.x0, x1: this.state.x1, source: preset(s.source), target: preset(s.target) };
    }
    return { kind: "preset", source: s.source, target: s.target, n: s.n, seed: s.seed };
  }

  configPatch() {
    return Object.fromEntries(CONFIG_KEYS.map((key) => [key, this.state.settings[key]]));
  }

  async startBackend() {
    const forced = new URLSearchParams(location.search).get("backend") === "js";
    try {
      if (forced) throw new Error("the link asks for the JS backend");
      this.backend = await createGpuBackend((reason) => this.fallBack(`WebGPU device lost: ${reason}`));
      this.backendNote = this.backend.adapterName;
    } catch (error) {
      this.fallBack(error.message);
    }
    this.updateBadges();
  }

  /** Switch to the JS backend, and say so on the page. */
  fallBack(reason) {
    this.backend = new CpuBackend();
    this.backendNote = reason;
    const notice = $("notice");
    notice.textContent = `WebGPU is not available here (${reason}). The particles and the velocity field run in plain JavaScript, with fewer particles.`;
    notice.hidden = false;
    const weights = this.roundWeights.get(this.snapshot?.round);
    if (weights) this.backend.setWeights(weights.weights, weights.net);
    this.resetParticles();
    this.updateBadges();
  }

  connect(hello) {
    this.connection = new Connection({
      ready: (m) => this.onReady(m),
      snapshot: (m) => this.onSnapshot(m),
      metrics: (m) => this.onMetrics(m.round, m),
      round_done: (m) => this.onMetrics(m.round, m.metrics),
      scene: (m) => this.onSceneReply(m.scene),
      config: (m) => this.onConfig(m.config),
      error: (m) => this.onServerError(m),
      close: () => this.showError("the connection to the server closed; reload the page to start a new session"),
      resume: () => ({ ...this.resumeHello(), snapshot_window: SNAPSHOT_WINDOW }),
      reconnecting: () => this.onReconnecting(),
      reconnected: () => {
        this.askedScene = null;
        this.reconnects += 1;
        this.showConnection("reconnected, your scene was restored", true);
      },
    });
    this.connection.open({ ...hello, snapshot_window: SNAPSHOT_WINDOW });
  }

  /** The session dropped: say so; edits made meanwhile stay on the page and go out with the reconnect. */
  onReconnecting() {
    this.ready = false;
    this.showConnection("connection lost, reconnecting…");
  }

  /**
   * The hello of a reconnect, made when its socket opens: the page's own points and settings, or the scene it
   * asked for and got no answer to. The new session starts training afresh from them; what was sent and not
   * applied, or done while disconnected, is in them already.
   */
  resumeHello() {
    this.askedScene = this.sceneRequests.at(-1) ?? this.askedScene;
    this.sceneRequests = [];
    const asked = this.askedScene;
    const s = this.state.settings;
    if (!asked) this.nextSceneEdited = this.state.edited;
    if (asked?.painted) Object.assign(s, { source: "gaussian", target: DRAWN_TARGET });
    const preset = (name) => (name === DRAWN_TARGET ? null : name);
    const points = { kind: "points", x0: this.state.x0, x1: this.state.x1, source: preset(s.source), target: preset(s.target) };
    this.pendingMoves.clear();
    this.pendingSince = null;
    this.sentAt.clear();
    this.sentEdits.clear();
    this.lastSentSeq = null;
    this.appliedSeq = null;
    this.unacknowledged = null;
    this.rounds.length = 0;
    return { scene: asked?.scene ?? points, config: this.configPatch() };
  }

  /** The connection notice: "reconnecting" stays up; "restored" goes after RECONNECTED_NOTICE_MS. */
  showConnection(text, restored = false) {
    const box = $("connection");
    box.textContent = text;
    box.classList.toggle("restored", restored);
    box.hidden = false;
    clearTimeout(this.connectionTimer);
    if (restored) this.connectionTimer = setTimeout(() => (box.hidden = true), RECONNECTED_NOTICE_MS);
  }

  onReady(message) {
    this.ready = true;
    if (!this.snapshots) showLoading("Training the first flow: its paths appear in a moment…");
    this.limits = message.limits;
    setPresets(message.presets);
    $("n").max = String(message.limits.max_points);
    $("width").max = String(message.limits.max_width);
    $("depth").max = String(message.limits.max_depth);
    $("steps").max = String(message.limits.max_solver_steps);
    this.bounds = message.limits.bounds ?? null;
    for (const [key, bound] of Object.entries(this.bounds ?? {})) {
      const input = $(key);
      if (!input) continue;
      // a box stepping by more than 1 (width by 4) keeps its own minimum, the base of its steps
      if ("ge" in bound && !(Number(input.step) > 1)) input.min = String(bound.ge);
      if ("le" in bound) input.max = String(bound.le);
    }
    this.onConfig(message.config);
    this.onScene(message.scene);
  }

  /** The server's answer to a set_scene: a brush stroke's scene shows as drawn data. */
  onSceneReply(scene) {
    const painted = this.sceneRequests.shift()?.painted;
    if (painted) {
      this.state.settings.source = "gaussian";
      this.state.settings.target = DRAWN_TARGET;
    }
    this.onScene(scene);
  }

  onScene(scene) {
    const s = this.state.settings;
    if (scene.source) s.source = scene.source;
    if (scene.target) s.target = scene.target;
    s.n = scene.x0.length;
    this.confirmedScene = { source: s.source, target: s.target, n: s.n };
    this.state.setPoints(scene.x0, scene.x1, this.nextSceneEdited);
    // zoom to the new scene (kept while its points are edited, so the view holds still under a drag)
    this.worldFrame = fitFrame([...scene.x0, ...scene.x1]);
    this.resize();
    this.flow = null;
    this.compareFlow = null;
    this.resetParticles();
    syncControls(this.state);
    this.dirty = true;
  }

  onConfig(config) {
    this.serverConfig = config;
    for (const key of CONFIG_KEYS) if (key in config) this.state.settings[key] = config[key];
    syncControls(this.state);
  }

  /**
   * Show the server's refusal and take the refused change back, so page and server agree: a config or scene
   * change puts the controls back; a refused edit, add or remove is undone on the page and leaves the history.
   */
  onServerError(message) {
    this.showError(`server: ${message.message}`);
    if (message.in_reply_to === "set_config" && this.serverConfig) this.onConfig(this.serverConfig);
    if (message.in_reply_to === "set_scene") {
      const request = this.sceneRequests.shift();
      if (request?.painted) {
        this.brushPoints.length = Math.min(this.brushPoints.length, request.brushed);
        this.brushMarks = this.brushMarks.filter((mark) => mark <= request.brushed);
      }
      Object.assign(this.state.settings, this.confirmedScene);
      this.nextSceneEdited = this.state.edited;
      syncControls(this.state);
    }
    const edit = this.sentEdits.get(message.seq);
    if (edit && ["edit", "add_pair", "remove_pair"].includes(message.in_reply_to)) {
      this.sentEdits.delete(message.seq);
      this.sentAt.delete(message.seq);
      this.lastSentSeq = Math.max(this.appliedSeq ?? 0, ...this.sentAt.keys());
      this.state.revert(edit);
      this.state.settings.n = this.state.count;
      this.flow = null;
      this.resetParticles();
      syncControls(this.state);
      this.dirty = true;
    }
  }

  /** @param {import("./socket.js").Snapshot} snapshot */
  onSnapshot(snapshot) {
    const now = performance.now();
    this.snapshot = snapshot;
    this.snapshots += 1;
    if (this.snapshots === 1) showLoading(null);
    this.unacknowledged = snapshot.seq;
    const trajectories = snapshot.arrays.trajectories;
    if (trajectories) {
      const [rows, n] = trajectories.shape;
      this.flow = { points: trajectories.data, steps: rows - 1, n, times: Float32Array.from(snapshot.times) };
    }
    const weights = snapshot.arrays.weights?.data;
    if (weights) {
      this.roundWeights.set(snapshot.round, { weights, net: snapshot.net });
      try {
        this.backend?.setWeights(weights, snapshot.net);
      } catch (error) {
        this.fallBack(error.message);
      }
      this.particlesStale = true;
    }
    this.showTraceSolver(snapshot);
    this.syncRounds(snapshot);
    if (this.replay && !this.replay.done) this.stepReplay(snapshot);
    const round = this.rounds[snapshot.round];
    if (snapshot.loss !== null && snapshot.step !== round.lastStep) {
      round.losses.push(snapshot.loss);
      if (round.losses.length > 2000) round.losses.splice(0, round.losses.length - 2000);
      round.lastStep = snapshot.step;
    }
    if (snapshot.applied_seq !== null && snapshot.applied_seq !== this.appliedSeq) {
      this.appliedSeq = snapshot.applied_seq;
      for (const seq of this.sentEdits.keys()) if (seq <= snapshot.applied_seq) this.sentEdits.delete(seq);
      for (const [seq, sent] of this.sentAt) {
        if (seq > snapshot.applied_seq) continue;
        this.lastLatency = now - sent;
        this.latencies.push(this.lastLatency);
        this.sentAt.delete(seq);
      }
      this.latencies.splice(0, Math.max(0, this.latencies.length - LATENCY_WINDOW));
    }
    $("train-toggle").textContent = snapshot.state === "paused" ? "Resume training" : "Pause training";
    this.updateBadges();
    this.renderPanels();
    this.dirty = true;
  }

  /** Keep `this.rounds` in step with the snapshot's list (rounds after an edited one are dropped). */
  syncRounds(snapshot) {
    const changed = snapshot.rounds.length !== this.rounds.length
      || snapshot.rounds.some((r, i) => this.rounds[i]?.name !== r.name)
      || this.shownRound !== snapshot.round;
    this.rounds.length = Math.min(this.rounds.length, snapshot.rounds.length);
    snapshot.rounds.forEach((r, i) => {
      if (!this.rounds[i] || this.rounds[i].name !== r.name) {
        this.rounds[i] = { index: i, name: r.name, kind: r.kind, losses: [], metrics: null, quality: null, pairing: null, lastStep: null };
      }
      Object.assign(this.rounds[i], { coupling: r.coupling, teacher: r.teacher });
    });
    for (const index of this.roundWeights.keys()) if (index >= this.rounds.length) this.roundWeights.delete(index);
    if (this.compared !== null && this.compared >= this.rounds.length) this.setCompare(null);
    if (changed) {
      this.shownRound = snapshot.round;
      renderRounds(this.rounds, this.randomView ? "random" : snapshot.round, this.compared);
      renderSampleStrip($("sample-strip"), this.rounds, this.state.x1, $("sample-note"));
    }
  }

  onMetrics(index, metrics) {
    const round = this.rounds[index];
    if (!round || !metrics) return;
    round.metrics = {
      // the round's own pairing (x0, z1): its row of the table (docs/engine.md, "Metrics")
      crossing: metrics.crossing?.flow,
      cost: metrics.cost?.flow?.sq,
      // the pairing it trains on: for round 0, the random pairing (x0, x1) of the table's "random" row
      trainedCrossing: metrics.crossing?.pairs,
      trainedCost: metrics.cost?.pairs?.sq,
      straightness: metrics.straightness?.s_norm,
      w2: metrics.w2,
    };
    if (metrics.pairing) round.pairing = metrics.pairing;
    if (metrics.quality) {
      round.quality = metrics.quality;
      renderSampleStrip($("sample-strip"), this.rounds, this.state.x1, $("sample-note"));
    }
    this.renderPanels();
  }

  /** The state as drawn: an OT round's pairing lines join each noise point to its OT partner. */
  drawnState() {
    const pairing = this.randomView ? null : this.rounds[this.snapshot?.round]?.pairing;
    if (!pairing || pairing.length !== this.state.x1.length || this.rounds[this.snapshot.round].teacher !== null) return this.state;
    return { ...this.state, x1: pairing.map((j) => this.state.x1[j]) };
  }

  renderPanels() {
    const current = this.snapshot?.round ?? 0;
    drawLoss($("loss-plot"), this.rounds, current);
    renderMetrics($("metrics").tBodies[0], this.rounds, this.randomView ? "random" : current);
    drawErrorVsSteps($("steps-plot"), this.rounds);
  }

  /** A busy server traces drag snapshots with a cheaper solver than the config's (docs/protocol.md): say so. */
  showTraceSolver(snapshot) {
    const badge = $("badge-busy");
    badge.hidden = !snapshot.coarse;
    const { method, steps } = snapshot.solver;
    if (snapshot.coarse) badge.textContent = `busy: ${method} × ${steps} paths while you drag`;
  }

  updateBadges() {
    if (this.backend) {
      const note = this.backend.name === "webgpu" ? this.backendNote : "fallback";
      $("badge-browser").textContent = `browser: ${this.backend.name === "webgpu" ? "WebGPU" : "JS"}${note ? ` (${note})` : ""}`;
      $("badge-browser").title = this.backendNote;
    }
    const p50 = percentile(this.latencies, 0.5);
    $("badge-latency").textContent = this.lastLatency === null
      ? "latency: –"
      : `latency: ${Math.round(this.lastLatency)} ms (p50 ${Math.round(p50)} ms)`;
    $("badge-fps").textContent = `fps: ${Math.round(this.fps)}`;
  }

  showError(text) {
    console.warn(`rftoy: ${text}`);
    this.errors.push(text);
    const box = $("error");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(this.errorTimer);
    this.errorTimer = setTimeout(() => (box.hidden = true), 8000);
  }

  // ---- input -------------------------------------------------------------------------------------------------

  bindInput() {
    this.probe = new Probe(this, $("probe"), $("probe-readout"));
    attachPointer(this.canvases.scene, {
      view: () => this.view,
      state: () => this.state,
      brushing: () => this.brushing,
      adding: () => this.adding,
      mayEdit: () => this.guarded(this.editWords(), this.shownKeep(), () => undefined),
      move: (cloud, index, x, y, time) => this.dragMove(cloud, index, x, y, time),
      dragEnd: (cloud, index, from, to) => {
        this.dragging = false;
        this.highlight = null;
        this.commit({ kind: "move", cloud, index, from, to: to.map(roundCoord) });
      },
      add: (x, y) => this.guarded(this.editWords(), this.shownKeep(), () => this.addPair(x, y)),
      remove: (index) => this.state.count > 1 && this.guarded(this.editWords(), this.shownKeep(),
        () => this.commit({ kind: "remove", index, x0: this.state.x0[index], x1: this.state.x1[index] })),
      paint: (points) => this.paint(points),
      paintPreview: (points) => {
        this.brushStroke = points;
        this.dirty = true;
      },
      highlight: (hit) => {
        if (hit?.cloud !== this.highlight?.cloud || hit?.index !== this.highlight?.index) this.dirty = true;
        this.highlight = hit;
      },
    });
    bindControls(this.state, {
      setting: (key, value) => this.changeSetting(key, value),
      viewChanged: () => {
        this.resetParticles();
        this.fieldKey = "";
        this.dirty = true;
      },
      scrub: (t) => {
        this.state.view.t = t;
        this.state.view.playing = false;
        syncTime(this.state);
      },
      togglePlay: () => {
        this.state.view.playing = !this.state.view.playing;
        if (this.state.view.playing && this.state.view.t >= 1) this.state.view.t = 0;
        syncTime(this.state);
      },
      newSeed: () => this.changeSetting("seed", (this.state.settings.seed + 1) % 2 ** 31),
      brush: (on) => this.setBrush(on),
      addMode: (on) => this.setAddMode(on),
      brushUndo: () => this.undoStroke(),
      brushClear: () => this.clearDrawing(),
      reflow: () => this.newRound("reflow"),
      distill: () => this.newRound("distill"),
      toggleTraining: () => {
        if (this.snapshot?.state !== "paused") this.connection.send({ type: "pause" });
        else this.guarded(`resuming training on ${this.shownName()}`, this.shownKeep(), () => this.connection.send({ type: "resume" }));
      },
      selectRound: (round) => this.selectRound(round),
      compare: (round) => this.setCompare(round),
      share: () => this.share(),
      undo: () => {
        if (this.brushing) this.undoStroke();
        else if (this.state.undoStack.length) this.guarded(this.editWords(), this.shownKeep(), () => this.sendEdit(this.state.undo()));
      },
      redo: () => this.state.redoStack.length && this.guarded(this.editWords(), this.shownKeep(), () => this.sendEdit(this.state.redo())),
      export: (format) => this.exportAs(format),
    });
  }

  /** A dragged sample moved: redraw at once, send at the next frame (coalesced). */
  dragMove(cloud, index, x, y, time) {
    this.dragging = true;
    this.highlight = { cloud, index, dragged: true };
    this.state[cloud][index] = [roundCoord(x), roundCoord(y)];
    this.pendingMoves.set(`${cloud}:${index}`, { cloud, index, x: roundCoord(x), y: roundCoord(y) });
    this.pendingSince ??= time;
    this.state.edited = true;
    this.dirty = true;
    if (performance.now() - this.lastFlush >= MIN_EDIT_INTERVAL_MS) this.flushMoves();
  }

  /** Send the coalesced moves (at once from a pointer event, or at the next frame when sent very recently). */
  flushMoves() {
    if (!this.pendingMoves.size || !this.connection?.isOpen) return;
    const seq = this.connection.sendEdit({ type: "edit", moves: [...this.pendingMoves.values()] });
    this.noteSent(seq, this.pendingSince);
    this.lastDragSeq = seq;
    this.pendingMoves.clear();
    this.pendingSince = null;
    this.lastFlush = performance.now();
  }

  noteSent(seq, since = performance.now()) {
    this.sentAt.set(seq, since);
    this.lastSentSeq = seq;
  }

  /** Record a finished edit for undo and send it. */
  commit(edit) {
    this.flushMoves();
    this.sendEdit(this.state.apply(edit), edit.kind === "move");
  }

  /**
   * Tell the server about an applied edit.
   * @param {import("./state.js").Edit | null} edit
   * @param {boolean} alreadySent a drag whose positions went out while dragging
   */
  sendEdit(edit, alreadySent = false) {
    if (!edit) return;
    this.dirty = true;
    let message;
    if (edit.kind === "move") {
      if (alreadySent) return;
      message = { type: "edit", moves: [{ cloud: edit.cloud, index: edit.index, x: edit.to[0], y: edit.to[1] }] };
    } else {
      this.flow = null;
      this.resetParticles();
      message = edit.kind === "add"
        ? { type: "add_pair", x0: edit.x0, x1: edit.x1, index: edit.index }
        : { type: "remove_pair", index: edit.index };
    }
    const seq = this.connection.sendEdit(message);
    this.noteSent(seq);
    this.sentEdits.set(seq, edit);
  }

  /** Click on empty space: a data sample there, paired with noise drawn near a random noise sample. */
  addPair(x, y) {
    if (!this.ready || this.state.count >= (this.limits?.max_points ?? Infinity)) return;
    const [jitter] = normalPoints(1, this.state.count + 7919 * this.particleSeed++);
    const anchor = this.state.x0[Math.floor(Math.random() * this.state.count)] || [0, 0];
    const x0 = [roundCoord(anchor[0] + 0.3 * jitter[0]), roundCoord(anchor[1] + 0.3 * jitter[1])];
    this.commit({ kind: "add", index: this.state.count, x0, x1: [roundCoord(x), roundCoord(y)] });
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
      this.dirty = true;
    };
    this.guarded("drawing a new target", 1, () => this.sendBrushScene(before), "", takeBack);
    this.dirty = true;
  }

  /** The brush points so far as the scene; `brushed`: points before this stroke (kept if the server refuses). */
  sendBrushScene(brushed) {
    const max = this.limits?.max_points ?? 4096;
    const x1 = this.brushPoints.slice(0, max);
    if (x1.length < 2) return;
    const x0 = normalPoints(x1.length, this.state.settings.seed).map((p) => p.map(roundCoord));
    const s = this.state.settings;
    const copy = (points) => points.map((p) => [...p]);
    this.brushBase ??= { x0: copy(this.state.x0), x1: copy(this.state.x1), source: s.source, target: s.target, edited: this.state.edited };
    this.nextSceneEdited = true;
    this.sendScene({ kind: "points", x0, x1, source: "gaussian", target: null }, brushed);
  }

  /**
   * Ask the server for a new scene; the page shows it when the server's `scene` reply comes.
   * @param {number | null} brushed brush points before this stroke, for a stroke's scene (else null)
   */
  sendScene(scene, brushed = null) {
    this.sceneRequests.push({ painted: brushed !== null, brushed, scene });
    this.connection.send({ type: "set_scene", scene });
  }

  /**
   * Run `action` now if it drops no trained round, else once the user agrees to drop the rounds after the first
   * `keep` (history.js); `onKeep` runs when they keep them. Returns whether `action` ran at once.
   */
  guarded(what, keep, action, restarts = "", onKeep = () => syncControls(this.state)) {
    const names = this.rounds.map((r) => r.name);
    if (this.guard.allows(names, keep)) {
      action();
      return true;
    }
    this.guard.confirm(what, names, keep, restarts).then((go) => (go ? action() : onKeep()));
    return false;
  }

  /** How many rounds survive retraining the shown one (it and those before it). */
  shownKeep() {
    return (this.snapshot?.round ?? 0) + 1;
  }

  shownName() {
    return this.rounds[this.snapshot?.round ?? 0]?.name ?? "1-RF";
  }

  editWords() {
    return `editing the scene on ${this.shownName()}`;
  }

  /** Reflow or Distill from the shown round (the rounds after it are replaced). */
  newRound(type) {
    const verb = type === "reflow" ? "Reflow" : "Distill";
    this.guarded(`${verb} from ${this.shownName()}`, this.shownKeep(), () => this.connection.send({ type }));
  }

  /** One step of rebuilding a link's rounds (link.js RoundReplay), after a snapshot. */
  stepReplay(snapshot) {
    const step = this.replay.next(snapshot);
    if (step.send) this.connection.send(step.send);
    if (step.finish) {
      this.selectRound(step.finish.shown);
      if (step.finish.compared !== null) this.setCompare(step.finish.compared);
      renderRounds(this.rounds, this.randomView ? "random" : this.shownRound, this.compared);
    }
    const box = $("replay-status");
    box.textContent = step.status;
    box.hidden = !step.status;
    if (this.replay.done && step.status) setTimeout(() => (box.hidden = true), 8000);
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

  /** Take back the last brush stroke: the strokes before it become the scene (or the scene before drawing). */
  undoStroke() {
    if (!this.brushMarks.length) return;
    this.brushMarks.pop();
    this.brushPoints.length = this.brushMarks.at(-1) ?? 0;
    if (this.brushPoints.length >= 2) this.sendBrushScene(this.brushPoints.length);
    else this.restoreBrushBase();
    this.dirty = true;
  }

  /** Clear every stroke: the scene goes back to what it was before drawing. */
  clearDrawing() {
    this.brushPoints = [];
    this.brushMarks = [];
    this.restoreBrushBase();
    this.dirty = true;
  }

  restoreBrushBase() {
    const base = this.brushBase;
    this.brushBase = null;
    if (!base) return;
    this.nextSceneEdited = base.edited;
    Object.assign(this.state.settings, { source: base.source, target: base.target });
    const preset = (name) => (name === DRAWN_TARGET ? null : name);
    this.sendScene({ kind: "points", x0: base.x0, x1: base.x1, source: preset(base.source), target: preset(base.target) });
  }

  changeSetting(key, value) {
    if (this.state.settings[key] === value) return;
    const refusal = settingRefusal(this.bounds, key, value);
    if (refusal) {
      this.showError(refusal);
      syncControls(this.state);
      return;
    }
    const net = NET_KEYS.includes(key);
    const keep = net || SCENE_KEYS.includes(key) ? 1 : TRAIN_KEYS.includes(key) ? this.shownKeep() : Infinity;
    const what = key === "seed" ? "a new seed" : `changing ${this.bounds?.[key]?.label ?? key.replace("_", " ")}`;
    this.guarded(what, keep, () => this.applySetting(key, value), net ? "1-RF starts again from fresh weights" : "");
  }

  applySetting(key, value) {
    this.state.settings[key] = value;
    if (["source", "target", "n", "seed"].includes(key)) {
      this.nextSceneEdited = false;
      if (key === "seed") this.connection.send({ type: "set_config", config: { seed: value } });
      const s = this.state.settings;
      this.sendScene({ kind: "preset", source: s.source, target: s.target, n: s.n, seed: s.seed });
    } else {
      this.connection.send({ type: "set_config", config: { [key]: value } });
    }
    syncControls(this.state);
  }

  /** Start over on the same points: every round is dropped and 1-RF trains again (presenter's "Start over"). */
  startOver() {
    if (!this.ready) return;
    this.randomView = false;
    this.nextSceneEdited = this.state.edited;
    this.sendScene(this.sceneMessage());
  }

  /** Show a round (the server sends its snapshots), or the random pairing drawn as straight paths. */
  selectRound(round) {
    this.randomView = round === "random";
    if (!this.randomView && round !== this.snapshot?.round) this.connection.send({ type: "select_round", round });
    renderRounds(this.rounds, this.randomView ? "random" : this.shownRound, this.compared);
    this.dirty = true;
  }

  setCompare(round) {
    this.compared = round;
    $("canvases").classList.toggle("split", round !== null);
    this.canvases.compare.hidden = round === null;
    this.compareFlow = null;
    this.resize();
  }

  async share() {
    const status = $("share-status");
    try {
      const shown = this.randomView ? "random" : this.snapshot?.round ?? 0;
      const plan = { chain: planOf(this.snapshot?.rounds ?? []), shown, compared: this.compared };
      const url = await makeLink(this.state, () => ({ ...this.sceneMessage(), kind: "points" }), this.configPatch(), plan);
      this.sharedUrl = url;
      const copied = await navigator.clipboard?.writeText(url).then(() => true, () => false);
      // copied: say so; else offer the link in a box, selected, to copy by hand
      const box = /** @type {HTMLInputElement} */ ($("share-link"));
      box.hidden = Boolean(copied);
      status.textContent = copied ? "link copied" : "copy this link:";
      status.dataset.state = copied ? "copied" : "manual";
      if (!copied) {
        box.value = url;
        box.select();
      }
      clearTimeout(this.shareTimer);
      if (copied) this.shareTimer = setTimeout(() => (status.textContent = ""), 4000);
    } catch (error) {
      this.showError(`sharing failed: ${error.message}`);
    }
  }

  exportAs(format) {
    const layers = [this.canvases.particles, this.canvases.scene];
    if (format === "png") exportPng(layers);
    else if (format === "webm") exportWebm(layers);
    else if (format === "json") exportJson(this.state, this.flow);
    else if (format === "csv") exportCsv(this.state, this.flow);
    else if (format === "weights") {
      const stored = this.roundWeights.get(this.snapshot?.round);
      if (stored) exportWeights(stored.weights, stored.net, this.snapshot.round);
    }
  }

  // ---- animation -------------------------------------------------------------------------------------------

  resize() {
    const dpr = window.devicePixelRatio || 1;
    for (const canvas of Object.values(this.canvases)) {
      const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
      const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
      if (canvas.width !== w || canvas.height !== h) {
        canvas.width = w;
        canvas.height = h;
      }
    }
    this.view = new View(this.canvases.scene.width, this.canvases.scene.height, dpr, this.worldFrame);
    this.view.marks = this.teaching?.markScale() ?? 1;
    this.dirty = true;
    this.renderPanels();
  }

  particleTarget() {
    if (!this.backend) return 0;
    const wanted = this.state.view.particles || (this.backend.software ? AUTO_PARTICLES.software : AUTO_PARTICLES.gpu);
    const capped = this.particleCap && this.particleCap.asked === this.state.view.particles && this.backend.software;
    return capped ? Math.min(wanted, this.particleCap.count) : wanted;
  }

  /**
   * On the JS backend, a particle count the user asked for that keeps the page under MIN_PARTICLE_FPS for a
   * second is cut (at least halved, not below the automatic count), with a note by the particles box; a new
   * count starts over.
   */
  capParticles(now) {
    const asked = this.state.view.particles;
    const note = $("particle-note");
    if (this.particleCap && this.particleCap.asked !== asked) {
      this.particleCap = null;
      note.hidden = true;
    }
    const current = this.particleTarget();
    const slow = this.backend?.software && asked > AUTO_PARTICLES.software && current > AUTO_PARTICLES.software
      && !document.hidden && this.fps < MIN_PARTICLE_FPS;
    if (!slow) {
      this.slowSince = null;
      return;
    }
    this.slowSince ??= now;
    if (now - this.slowSince < 1000) return;
    this.slowSince = null;
    // the frame rate scales about inversely with the count: aim a quarter above the floor, at least halving
    const aimed = Math.floor((current * this.fps) / (1.25 * MIN_PARTICLE_FPS));
    const count = Math.max(AUTO_PARTICLES.software, Math.min(Math.floor(current / 2), aimed));
    this.particleCap = { asked, count };
    const number = (value) => value.toLocaleString("en");
    note.textContent = `capped at ${number(count)} particles: ${number(asked)} kept this page under ${MIN_PARTICLE_FPS} frames per second in plain JavaScript`;
    note.hidden = false;
    this.resetParticles();
  }

  resetParticles() {
    if (!this.backend) return;
    this.backend.setOrigins(particleOrigins(this.state.x0, this.particleTarget(), this.particleSeed));
    this.particlesStale = true;
  }

  /**
   * Bring the particles to the current t: a small step forward, or a fresh trace from t = 0.
   * @returns {boolean} whether any work was started
   */
  advanceParticles(now) {
    const { t, playing } = this.state.view;
    const backend = this.backend;
    if (!this.roundWeights.has(this.snapshot?.round)) return false;
    // On slow backends the particles hold still during a drag, so the page keeps up with the pointer.
    if (!backend.idle || (this.dragging && backend.software)) return false;
    const steps = this.state.settings.steps;
    const retraceDue = !backend.software || now - this.particlesTracedAt > SOFTWARE_RETRACE_MS;
    if (t < this.lastT || (this.particlesStale && !playing && retraceDue)) {
      backend.reset();
      if (backend.software) backend.advect(0, t, Math.max(1, Math.ceil(t * Math.min(steps, SOFTWARE_RETRACE_STEPS))), "euler");
      else backend.advect(0, t, Math.max(1, Math.ceil(t * steps)), this.state.settings.solver);
      this.particlesStale = false;
      this.particlesTracedAt = now;
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

  frame(now) {
    const elapsed = Math.min(0.1, (now - this.lastFrame) / 1000);
    this.lastFrame = now;
    this.frameTimes.push(now);
    while (this.frameTimes.length && this.frameTimes[0] < now - 1000) this.frameTimes.shift();
    this.fps = this.frameTimes.length;
    const view = this.state.view;
    if (view.playing) {
      view.t += view.speed * elapsed;
      if (view.t > 1) {
        view.t = view.loop ? 0 : 1;
        view.playing = view.loop;
      }
      syncTime(this.state);
    }
    this.flushMoves();
    if (this.backend) {
      this.capParticles(now);
      const wanted = this.particleTarget();
      if (this.backend.particleCount !== wanted && this.state.count) this.resetParticles();
      const moved = this.advanceParticles(now);
      const updated = this.backend.positions !== this.drawnPositions || (moved && this.backend.name === "js");
      if (updated) this.particleTimes.push(now);
      while (this.particleTimes.length && this.particleTimes[0] < now - 1000) this.particleTimes.shift();
      if (updated || this.dirty) {
        this.drawnPositions = this.backend.positions;
        drawParticles(this.particleCtx, this.view, this.drawnPositions, view.t, view.layers.particles && !this.randomView);
      }
    }
    const fieldKey = `${view.t}|${this.snapshots}|${this.view.width}x${this.view.height}`;
    const fieldDue = !this.backend?.software || now - this.fieldAt >= SOFTWARE_FIELD_MS;
    if (view.field !== "off" && this.fieldKey !== fieldKey && !this.fieldBusy && fieldDue) {
      this.fieldKey = fieldKey;
      this.fieldAt = now;
      this.evaluateField(view.t);
    }
    if (this.compared !== null && !this.compareFlow) this.traceCompare();
    this.probe?.update();
    if (this.dirty || view.playing) {
      const flow = this.randomView ? straightFlow(this.state.x0, this.state.x1) : this.flow;
      const field = view.field === "off" || this.randomView ? null : this.field;
      drawScene(this.ctx, this.view, this.drawnState(), flow, field, this.highlight);
      this.drawBrushPreview();
      this.teaching?.draw(this.ctx, this.view);
      this.probe?.draw(this.ctx, this.view);
      if (this.compared !== null) this.drawCompare();
      this.dirty = false;
      if (this.unacknowledged !== null) {
        this.connection.send({ type: "ack", seq: this.unacknowledged });
        this.unacknowledged = null;
      }
    }
    if (this.frameTimes.length % 15 === 0) this.updateBadges();
    requestAnimationFrame((next) => this.frame(next));
  }

  async evaluateField(t) {
    if (!this.backend || !this.roundWeights.has(this.snapshot?.round)) return;
    this.fieldBusy = true;
    const bounds = this.view.bounds();
    const nx = FIELD_COLUMNS;
    const ny = Math.max(2, Math.round((nx * (bounds[3] - bounds[2])) / (bounds[1] - bounds[0])));
    const queries = new Float32Array(3 * nx * ny);
    for (let iy = 0; iy < ny; iy++) {
      for (let ix = 0; ix < nx; ix++) {
        const q = 3 * (iy * nx + ix);
        queries[q] = bounds[0] + (ix / (nx - 1)) * (bounds[1] - bounds[0]);
        queries[q + 1] = bounds[2] + (iy / (ny - 1)) * (bounds[3] - bounds[2]);
        queries[q + 2] = t;
      }
    }
    try {
      this.field = { nx, ny, bounds, v: await this.backend.evaluate(queries) };
      this.dirty = true;
    } catch (error) {
      console.warn(`rftoy: field evaluation failed (${error.message}); it is retried at the next change`);
    } finally {
      this.fieldBusy = false;
    }
  }

  drawBrushPreview() {
    const points = [...this.brushPoints, ...this.brushStroke];
    if (!points.length) return;
    this.ctx.fillStyle = COLORS.data;
    for (const [x, y] of points) {
      this.ctx.fillRect(this.view.px(x) - 2 * this.view.dpr, this.view.py(y) - 2 * this.view.dpr, 4 * this.view.dpr, 4 * this.view.dpr);
    }
  }

  /** The compared round's flow, traced in the browser from its stored weights with the current solver. */
  traceCompare() {
    const stored = this.roundWeights.get(this.compared);
    if (!stored) return;
    const s = this.state.settings;
    this.compareFlow = traceFlow(makeVelocity(stored.weights, stored.net), this.state.x0, s.solver, s.steps, s.warp_s);
  }

  drawCompare() {
    const canvas = this.canvases.compare;
    const ctx = canvas.getContext("2d");
    const view = new View(canvas.width, canvas.height, this.view.dpr, this.worldFrame);
    const state = { ...this.state, view: { ...this.state.view, field: "off" } };
    drawScene(ctx, view, state, this.compareFlow, null, null);
    ctx.fillStyle = "#333";
    ctx.font = `${13 * view.dpr}px system-ui, sans-serif`;
    ctx.fillText(`compare: ${this.rounds[this.compared]?.name ?? ""}`, 8 * view.dpr, 18 * view.dpr);
  }
}

const app = new App();
installHook(app);
app.start();
