// Share links (docs/web.md): the whole state in the link itself (`#s=`), or, when that is too long, a scene
// stored on the server (`?scene=<id>`) with the view settings in `#v=`.

import { saveScene } from "./socket.js";
import { compress, decompress } from "./state.js";

/** Links longer than this store the scene on the server instead. */
const MAX_LINK_CHARS = 1800;

/** The stored scene the page's link names (`?scene=<id>`), or null. */
export function linkedSceneId() {
  return new URLSearchParams(location.search).get("scene");
}

/**
 * Restore settings, view and points from the page's link into `state`; throws if the link cannot be read.
 * @param {import("./state.js").SceneState} state
 */
export async function readLink(state) {
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get("s")) state.fromShared(await decompress(hash.get("s")));
  if (hash.get("v")) state.fromShared({ view: await decompress(hash.get("v")) });
}

/**
 * A link that restores `state`.
 * @param {import("./state.js").SceneState} state
 * @param {() => object} pointsScene the scene as explicit points, stored when the link would be too long
 * @param {object} config the config patch stored with it
 */
export async function makeLink(state, pointsScene, config) {
  const shared = state.toShared();
  const page = `${location.origin}${location.pathname}`;
  const url = `${page}#s=${await compress(shared)}`;
  if (url.length <= MAX_LINK_CHARS) return url;
  const id = await saveScene(pointsScene(), config);
  return `${page}?scene=${id}${shared.view ? `#v=${await compress(shared.view)}` : ""}`;
}
