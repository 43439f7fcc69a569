// The app: the page's one state object (SceneState: settings, view, points) with what the server last sent, and
// the parts that keep them in step, each in its own module: edits (edits.js), scenes (scenes.js), rounds
// (rounds.js), particles (particles.js), the canvas tools (tools.js), the live session (session.js), the
// animation loop (loop.js) and the notices (notices.js). The members below the parts are what the lesson reads
// and calls (lesson.js, teach.js) and the test hook shows (hook.js).

import { syncControls } from "./controls.js";
import { CpuBackend } from "./cpu.js";
import { createGpuBackend } from "./gpu.js";
import { RoundGuard } from "./history.js";
import { EditSync } from "./edits.js";
import { FrameLoop } from "./loop.js";
import { Notices } from "./notices.js";
import { Particles } from "./particles.js";
import { RoundList } from "./rounds.js";
import { SceneSync } from "./scenes.js";
import { LiveSession } from "./session.js";
import { settingOf } from "./settings.js";
import { SceneState, settingRefusal } from "./state.js";
import { CanvasTools } from "./tools.js";
import { View } from "./view.js";

const $ = (id) => document.getElementById(id);

export class App {
  constructor() {
    this.state = new SceneState();
    this.canvases = { particles: $("particles"), scene: $("scene"), compare: $("compare") };
    this.ctx = this.canvases.scene.getContext("2d");
    this.particleCtx = this.canvases.particles.getContext("2d");
    this.view = new View(1, 1, 1);
    /** the world square in view (fitted to each new scene) */
    this.worldFrame = undefined;
    /** @type {import("./cpu.js").CpuBackend | import("./gpu.js").GpuBackend | null} */
    this.backend = null;
    this.backendNote = "";
    /** @type {import("./socket.js").Connection | null} */
    this.connection = null;
    this.limits = null;
    /** each setting's range, from the server (ready.limits.bounds) */
    this.bounds = null;
    this.ready = false;
    /** @type {import("./socket.js").Snapshot | null} */
    this.snapshot = null;
    this.snapshots = 0;
    /** the seq of a snapshot received and not yet drawn (acknowledged once drawn) */
    this.unacknowledged = null;
    /** @type {import("./draw.js").Flow | null} */
    this.flow = null;
    /** the sample under the pointer or dragged */
    this.highlight = null;
    this.dirty = true;
    /** actions that drop trained rounds ask first (history.js); a link's rounds are rebuilt by `replay` */
    this.guard = new RoundGuard();
    this.replay = null;
    /** how often the page reconnected after its session dropped */
    this.reconnects = 0;
    this.sharedUrl = null;
    /** the lesson, the introduction and the modes (teach.js), and the probe (probe.js), once installed */
    this.teaching = null;
    this.probe = null;

    this.notices = new Notices(this);
    this.edits = new EditSync(this);
    this.scenes = new SceneSync(this);
    this.roundList = new RoundList(this);
    this.particles = new Particles(this);
    this.tools = new CanvasTools(this);
    this.session = new LiveSession(this);
    this.loop = new FrameLoop(this);
  }

  get rounds() {
    return this.roundList.items;
  }

  get roundWeights() {
    return this.roundList.weights;
  }

  get randomView() {
    return this.roundList.randomView;
  }

  get compared() {
    return this.roundList.compared;
  }

  get lastDragSeq() {
    return this.edits.lastDragSeq;
  }

  get appliedSeq() {
    return this.edits.appliedSeq;
  }

  get lastLatency() {
    return this.edits.lastLatency;
  }

  get fieldKey() {
    return this.loop.fieldKey;
  }

  set fieldKey(key) {
    this.loop.fieldKey = key;
  }

  get nextSceneEdited() {
    return this.scenes.nextEdited;
  }

  set nextSceneEdited(edited) {
    this.scenes.nextEdited = edited;
  }

  selectRound(round) {
    this.roundList.select(round);
  }

  sendScene(scene, brushed = null) {
    this.scenes.send(scene, brushed);
  }

  resetParticles() {
    this.particles.reset();
  }

  startOver() {
    this.scenes.startOver();
  }

  showError(text) {
    this.notices.error(text);
  }

  /** Start the compute backend: WebGPU, or plain JS when the link asks for it or WebGPU fails. */
  async startBackend() {
    const forced = new URLSearchParams(location.search).get("backend") === "js";
    try {
      if (forced) throw new Error("the link asks for the JS backend");
      this.backend = await createGpuBackend((reason) => this.fallBack(`WebGPU device lost: ${reason}`));
      this.backendNote = this.backend.adapterName;
    } catch (error) {
      this.fallBack(error.message);
    }
    this.notices.badges();
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
    this.particles.reset();
    this.notices.badges();
  }

  changeSetting(key, value) {
    if (this.state.settings[key] === value) return;
    const refusal = settingRefusal(this.bounds, key, value);
    if (refusal) {
      this.showError(refusal);
      syncControls(this.state);
      return;
    }
    const effect = settingOf(key)?.effect;
    const net = effect === "net";
    const keep = net || effect === "scene" ? 1 : effect === "train" ? this.shownKeep() : Infinity;
    const what = key === "seed" ? "a new seed" : `changing ${this.bounds?.[key]?.label ?? key.replace("_", " ")}`;
    this.guarded(what, keep, () => this.applySetting(key, value), net ? "1-RF starts again from fresh weights" : "");
  }

  applySetting(key, value) {
    this.state.settings[key] = value;
    const { scene, config } = settingOf(key);
    if (scene) {
      this.nextSceneEdited = false;
      if (config) this.connection.send({ type: "set_config", config: { [key]: value } });
      this.sendScene(this.scenes.preset());
    } else {
      this.connection.send({ type: "set_config", config: { [key]: value } });
    }
    syncControls(this.state);
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

  /** Fit every canvas's backing store to its size on the page, and the view to the scene canvas. */
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
    this.roundList.renderPanels();
  }
}
