// The scene in step with the server: a new scene is asked for with set_scene and shown when the server's
// `scene` reply comes (a brush stroke's scene as drawn data); a refused one puts the confirmed scene's
// settings back.

import { syncControls } from "./controls.js";
import { present, SCENE_KEYS } from "./settings.js";
import { fitFrame } from "./view.js";

/** The target's name in the controls once the user has painted it (not a server preset). */
export const DRAWN_TARGET = "drawn";

/** A scene of explicit points; a drawn target has no preset name. `placement` is where the presets were drawn. */
export function pointsScene(x0, x1, source, target, placement) {
  const preset = (name) => (name === DRAWN_TARGET ? null : name);
  return { kind: "points", x0, x1, source: preset(source), target: preset(target), placement };
}

export class SceneSync {
  /** @param {import("./app.js").App} app */
  constructor(app) {
    this.app = app;
    /** one entry per set_scene not yet answered (a scene or an error): whether it was a brush stroke */
    this.requests = [];
    /** source, target, placement and n of the scene the server last confirmed (restored when it refuses one) */
    this.confirmed = null;
    /** while reconnecting: the last scene asked for and not answered before the drop (a reconnect opens it) */
    this.asked = null;
    /** whether the next scene the server sends counts as edited (the link must then carry its points) */
    this.nextEdited = false;
    /**
     * the hello's points came from a link that left their preset names at the defaults (a link made before the
     * page took its defaults from the server): once they are known, the scene is sent again naming them
     */
    this.namePresets = false;
  }

  /** The page's scene as a message: its points once edited, else its preset. */
  message() {
    const { settings: s, edited, x0, x1 } = this.app.state;
    return edited ? pointsScene(x0, x1, s.source, s.target, s.placement) : this.preset();
  }

  /** The page's preset scene (before the server is ready, only what a link sets: the server fills the rest). */
  preset() {
    return { kind: "preset", ...present(this.app.state.settings, SCENE_KEYS) };
  }

  /**
   * Ask the server for a new scene; the page shows it when the server's `scene` reply comes.
   * @param {number | null} brushed brush points before this stroke, for a stroke's scene (else null)
   */
  send(scene, brushed = null) {
    this.requests.push({ painted: brushed !== null, brushed, scene });
    this.app.connection.send({ type: "set_scene", scene });
  }

  /** The server's answer to a set_scene: a brush stroke's scene shows as drawn data. */
  reply(scene) {
    const painted = this.requests.shift()?.painted;
    if (painted) {
      this.app.state.settings.source = "gaussian";
      this.app.state.settings.target = DRAWN_TARGET;
    }
    this.show(scene);
  }

  /** Show the scene the server confirmed. */
  show(scene) {
    const app = this.app;
    const s = app.state.settings;
    if (scene.source) s.source = scene.source;
    if (scene.target) s.target = scene.target;
    s.placement = scene.placement;
    s.n = scene.x0.length;
    this.confirmed = { source: s.source, target: s.target, placement: s.placement, n: s.n };
    app.state.setPoints(scene.x0, scene.x1, this.nextEdited);
    // zoom to the new scene (kept while its points are edited, so the view holds still under a drag)
    app.worldFrame = fitFrame([...scene.x0, ...scene.x1]);
    const { halfX, halfY } = app.worldFrame;
    document.getElementById("canvases").style.setProperty("--frame-aspect", String(halfY / halfX));
    app.resize();
    app.flow = null;
    app.roundList.compareFlow = null;
    app.particles.reset();
    syncControls(app.state);
    app.dirty = true;
  }

  /** The server refused a set_scene: its settings go back to the confirmed scene's (a stroke is taken back). */
  refused() {
    const app = this.app;
    const request = this.requests.shift();
    if (request?.painted) app.tools.refusedStroke(request);
    Object.assign(app.state.settings, this.confirmed);
    this.nextEdited = app.state.edited;
    syncControls(app.state);
  }

  /**
   * The scene a reconnect opens: the page's own points, or the scene it asked for and got no answer to (what was
   * sent and not applied, or done while disconnected, is in them already).
   */
  resume() {
    const { state } = this.app;
    this.asked = this.requests.at(-1) ?? this.asked;
    this.requests = [];
    const asked = this.asked;
    const s = state.settings;
    if (!asked) this.nextEdited = state.edited;
    if (asked?.painted) Object.assign(s, { source: "gaussian", target: DRAWN_TARGET });
    return asked?.scene ?? pointsScene(state.x0, state.x1, s.source, s.target, s.placement);
  }

  /** Start over on the same points: every round is dropped and 1-RF trains again (presenter's "Start over"). */
  startOver() {
    const app = this.app;
    if (!app.ready) return;
    app.roundList.randomView = false;
    this.nextEdited = app.state.edited;
    this.send(this.message());
  }
}
