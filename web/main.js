// The page's entry: makes the app (app.js), installs the read-only test hook `window.rftoy` (hook.js,
// docs/web.md), and starts: the share link read, the input and the teaching wired, the compute backend started,
// the session opened and the animation loop run.

import { App } from "./app.js";
import { syncControls } from "./controls.js";
import { installHook } from "./hook.js";
import { bindInput } from "./input.js";
import { linkedSceneId, readLink, RoundReplay } from "./link.js";
import { showLoading } from "./loading.js";
import { serverDevice } from "./socket.js";
import { installTeaching, prepareLinkedLesson } from "./teach.js";

/**
 * The hello's scene and config from the page's share link: `?scene=<id>` (a stored scene, the view in `#v=`) or
 * `#s=` (the whole state), else the page's own scene and settings.
 * @param {App} app
 */
async function readHello(app) {
  const sceneId = linkedSceneId();
  try {
    const plan = await readLink(app.state);
    if (plan) app.replay = new RoundReplay(plan);
  } catch (error) {
    app.showError(`could not read this link: ${error.message}`);
  }
  const { edited, settings } = app.state;
  app.nextSceneEdited = Boolean(sceneId) || edited;
  if (sceneId) return { scene_id: sceneId };
  app.scenes.namePresets = edited && (settings.source === undefined || settings.target === undefined);
  return { scene: app.scenes.message(), config: app.session.configPatch() };
}

/** @param {App} app */
async function start(app) {
  prepareLinkedLesson(app.state);
  const hello = await readHello(app);
  syncControls(app.state);
  bindInput(app);
  app.teaching = installTeaching(app);
  new ResizeObserver(() => app.resize()).observe(document.getElementById("canvases"));
  app.resize();
  showLoading(new URLSearchParams(location.search).get("backend") === "js" ? "Starting…" : "Compiling the WebGPU shaders…");
  await app.startBackend();
  showLoading("Connecting to the server…");
  serverDevice().then(
    (device) => app.notices.server(device),
    (error) => console.warn(`rftoy: /api/health: ${error.message}`),
  );
  app.session.connect(hello);
  app.loop.start();
}

const app = new App();
installHook(app);
start(app);
