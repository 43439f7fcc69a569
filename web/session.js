// The live session seen from the page: the server's messages (ready, snapshot, metrics, scene, config, error)
// handed to the parts that keep the state in step, and the hello of a reconnect.

import { setPresets, syncControls } from "./controls.js";
import { showLoading } from "./loading.js";
import { CONFIG_KEYS, defaultsFrom, present, SETTING_KEYS } from "./settings.js";
import { Connection } from "./socket.js";

const $ = (id) => document.getElementById(id);

/**
 * Snapshots the server may send before the page acknowledges drawing one (protocol.md, `ack`): a busy page then
 * gets the freshest snapshot instead of a queue of stale ones.
 */
const SNAPSHOT_WINDOW = 1;
/** How long the status of a link's rebuilt rounds stays up once it is done. */
const REPLAY_STATUS_MS = 8000;

export class LiveSession {
  /** @param {import("./app.js").App} app */
  constructor(app) {
    this.app = app;
    /** the whole config as the server last confirmed it */
    this.serverConfig = null;
  }

  /** Open the connection with `hello` (scene or scene_id, config). */
  connect(hello) {
    const app = this.app;
    app.connection = new Connection({
      ready: (m) => this.ready(m),
      snapshot: (m) => this.snapshot(m),
      metrics: (m) => app.roundList.metrics(m.round, m),
      round_done: (m) => app.roundList.metrics(m.round, m.metrics),
      scene: (m) => app.scenes.reply(m.scene),
      config: (m) => this.config(m.config),
      error: (m) => this.serverError(m),
      close: () => app.notices.error("the connection to the server closed; reload the page to start a new session"),
      resume: () => ({ ...this.resumeHello(), snapshot_window: SNAPSHOT_WINDOW }),
      reconnecting: () => this.reconnecting(),
      reconnected: () => {
        app.scenes.asked = null;
        app.reconnects += 1;
        app.notices.connection("reconnected, your scene was restored", true);
      },
    });
    app.connection.open({ ...hello, snapshot_window: SNAPSHOT_WINDOW });
  }

  /** The config the page sends: its settings of the session's config (before `ready`, those a link sets). */
  configPatch() {
    return present(this.app.state.settings, CONFIG_KEYS);
  }

  /** The session dropped: say so; edits made meanwhile stay on the page and go out with the reconnect. */
  reconnecting() {
    this.app.ready = false;
    this.app.notices.connection("connection lost, reconnecting…");
  }

  /**
   * The hello of a reconnect, made when its socket opens: the page's own points and settings, or the scene it
   * asked for and got no answer to. The new session starts training afresh from them.
   */
  resumeHello() {
    const app = this.app;
    const scene = app.scenes.resume();
    app.edits.forget();
    app.unacknowledged = null;
    app.roundList.items.length = 0;
    return { scene, config: this.configPatch() };
  }

  ready(message) {
    const app = this.app;
    app.ready = true;
    if (!app.snapshots) showLoading("Training the first flow: its paths appear in a moment…");
    app.limits = message.limits;
    setPresets(message.presets);
    $("n").max = String(message.limits.max_points);
    $("width").max = String(message.limits.max_width);
    $("depth").max = String(message.limits.max_depth);
    $("steps").max = String(message.limits.max_solver_steps);
    app.bounds = message.limits.bounds ?? null;
    for (const [key, bound] of Object.entries(app.bounds ?? {})) {
      const input = $(key);
      if (!input) continue;
      // a box stepping by more than 1 (width by 4) keeps its own minimum, the base of its steps
      if ("ge" in bound && !(Number(input.step) > 1)) input.min = String(bound.ge);
      if ("le" in bound) input.max = String(bound.le);
    }
    this.takeDefaults(message.defaults);
    this.config(message.config);
    app.scenes.show(message.scene);
    if (app.scenes.namePresets && app.state.defaults) app.scenes.send(app.scenes.message());
    app.scenes.namePresets = false;
  }

  /** The server's defaults: the settings no link set take them. */
  takeDefaults(defaults) {
    const state = this.app.state;
    state.defaults = defaultsFrom(defaults);
    if (state.defaults) for (const key of SETTING_KEYS) state.settings[key] ??= state.defaults[key];
  }

  config(config) {
    this.serverConfig = config;
    for (const key of CONFIG_KEYS) if (key in config) this.app.state.settings[key] = config[key];
    syncControls(this.app.state);
  }

  /**
   * Show the server's refusal and take the refused change back, so page and server agree: a config or scene
   * change puts the controls back; a refused edit, add or remove is undone on the page and leaves the history.
   */
  serverError(message) {
    const app = this.app;
    app.notices.error(`server: ${message.message}`);
    if (message.in_reply_to === "set_config" && this.serverConfig) this.config(this.serverConfig);
    if (message.in_reply_to === "set_scene") app.scenes.refused();
    app.edits.refused(message);
  }

  /** @param {import("./socket.js").Snapshot} snapshot */
  snapshot(snapshot) {
    const app = this.app;
    const now = performance.now();
    app.snapshot = snapshot;
    app.snapshots += 1;
    if (app.snapshots === 1) showLoading(null);
    app.unacknowledged = snapshot.seq;
    const trajectories = snapshot.arrays.trajectories;
    if (trajectories) {
      const [rows, n] = trajectories.shape;
      app.flow = { points: trajectories.data, steps: rows - 1, n, times: Float32Array.from(snapshot.times) };
    }
    const weights = snapshot.arrays.weights?.data;
    if (weights) {
      app.roundList.weights.set(snapshot.round, { weights, net: snapshot.net });
      try {
        app.backend?.setWeights(weights, snapshot.net);
      } catch (error) {
        app.fallBack(error.message);
      }
      app.particles.stale = true;
    }
    app.notices.traceSolver(snapshot);
    app.roundList.sync(snapshot);
    // a link's rounds are rebuilt on its scene: not while a scene asked for is not confirmed yet
    if (app.replay && !app.replay.done && !app.scenes.requests.length) this.stepReplay(snapshot);
    app.edits.applied(snapshot.applied_seq, now);
    $("train-toggle").textContent = snapshot.state === "paused" ? "Resume training" : "Pause training";
    app.notices.badges();
    app.roundList.renderPanels();
    app.dirty = true;
  }

  /** One step of rebuilding a link's rounds (link.js RoundReplay), after a snapshot. */
  stepReplay(snapshot) {
    const app = this.app;
    const step = app.replay.next(snapshot);
    if (step.send) app.connection.send(step.send);
    if (step.finish) {
      app.roundList.select(step.finish.shown);
      if (step.finish.compared !== null) app.roundList.compare(step.finish.compared);
      app.roundList.renderTabs();
    }
    const box = $("replay-status");
    box.textContent = step.status;
    box.hidden = !step.status;
    if (app.replay.done && step.status) setTimeout(() => (box.hidden = true), REPLAY_STATUS_MS);
  }
}
