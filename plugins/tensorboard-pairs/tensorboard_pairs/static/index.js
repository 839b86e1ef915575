// The "pairs" dashboard inside TensorBoard (loaded in an iframe whose base URL is data/plugin/pairs/).
import { decodeValues, mountPairViewer } from "./viewer.js";

async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: ${response.status} ${await response.text()}`);
  return response.json();
}

async function loadImage(query) {
  const response = await fetch(`./image?${query}`);
  return createImageBitmap(await response.blob());
}

function runSource(run, info, steps) {
  return {
    run, steps, layer: info.layer, grid: info.grid,
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
  const viewer = mountPairViewer(host);

  const runs = await getJson("./runs");
  const names = Object.keys(runs).sort();
  if (!names.length) {
    about.textContent = "No run has both an 'input' and an 'output' image tag yet.";
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
    about.textContent = info.layer ? info.layer.repr || info.layer.type : "(no layer logged)";
    const steps = await getJson(`./steps?${new URLSearchParams({ run })}`);
    if (ticket !== latest) return;
    await viewer.setSource(runSource(run, info, steps));
    if (ticket !== latest) return;
    document.body.dataset.run = run;
  }
  picker.addEventListener("change", () => choose(picker.value));
  await choose(picker.value);
}
