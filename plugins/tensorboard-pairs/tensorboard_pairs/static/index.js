// The "pairs" dashboard inside TensorBoard (loaded in an iframe whose base URL is data/plugin/pairs/).
import { decodeValues, mountPairViewer } from "./viewer.js";

async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function loadImage(query) {
  const response = await fetch(`./image?${query}`);
  // the pixels as the PNG stores them: a plain SummaryWriter run's values are read from them
  return createImageBitmap(await response.blob(), { colorSpaceConversion: "none", premultiplyAlpha: "none" });
}

function runSource(run, info, steps, onLayer) {
  const notice = info.layer_error
    ? `PAIRS could not use the layer this run logged: ${info.layer_error}. It logged: ${info.layer_text}`
    : null;
  return {
    run, steps, layer: info.layer, grid: info.grid, notice, onLayer,
    // a plain SummaryWriter loop that logged its layer as text: check it against the pictures
    fromPictures: info.layer_text !== undefined && Boolean(info.layer),
    loadImages: async (t) => {
      const [input, output] = await Promise.all([loadImage(steps[t].input), loadImage(steps[t].output)]);
      return { input, output };
    },
    loadValues: async (t) => {
      const values = await getJson(`./values?${new URLSearchParams({ run, step: steps[t].step })}`);
      return values.input ? { input: decodeValues(values.input), output: decodeValues(values.output) } : null;
    },
  };
}

export async function render() {
  document.documentElement.lang = "en";
  document.title = "PAIRS: a layer's input and output, pixel by pixel";
  if (window.frameElement) window.frameElement.title = document.title;  // names TensorBoard's iframe
  document.body.style.margin = "16px";
  const header = document.createElement("div");
  const label = document.createElement("label");
  const picker = document.createElement("select");
  picker.className = "pv-run";
  label.append("run ", picker);
  const about = document.createElement("span");
  about.style.cssText = "margin-left: 16px; color: #555; font: 13px Roboto, Arial, sans-serif";
  label.style.font = "13px Roboto, Arial, sans-serif";
  header.append(label, about);
  const host = document.createElement("div");
  document.body.append(header, host);
  const viewer = mountPairViewer(host, { fitHeight: true });

  const runs = await getJson("./runs");
  const names = Object.keys(runs).sort();
  if (!names.length) {
    about.textContent = "No run has pictures tagged input and output yet: run a lesson's TensorBoard loop first.";
    return;
  }
  for (const name of names) picker.append(new Option(name, name));
  const wanted = new URLSearchParams(window.location.search).get("run");
  if (wanted && runs[wanted]) picker.value = wanted;

  // Only the run chosen last is shown: a choice made while an earlier one still loads (the first
  // run loading when the page opens, a quick second click) must not be overwritten by it.
  let latest = 0;
  async function choose(run) {
    const ticket = ++latest;
    const info = runs[run];
    const describe = (layer) => { about.textContent = layer ? `layer: ${layer.repr || layer.type}` : "layer: not logged"; };
    describe(info.layer);
    const steps = await getJson(`./steps?${new URLSearchParams({ run })}`);
    if (ticket !== latest) return;
    await viewer.setSource(runSource(run, info, steps, (layer) => { if (ticket === latest) describe(layer); }));
    if (ticket !== latest) return;
    document.body.dataset.run = run;
  }
  picker.addEventListener("change", () => choose(picker.value));
  await choose(picker.value);
}
