// The pair viewer: a layer's input and output at one step, side by side, at true pixel size times an
// integer zoom, nearest neighbour. Hover (or click to pin) an output pixel: its pooling window is
// outlined on the input (dilation holes, padding and the ceil-mode overhang included) and its values
// listed; for dropout, the input value, kept or dropped, and the output value.
// Keyboard: Tab to the output picture, arrow keys move the selected pixel (Home/End: first/last
// column, PageUp/PageDown: first/last row), Enter or Space pins it, Escape unpins; the values table
// is announced (aria-live).
// A run written by a plain SummaryWriter loop (add_images only, plus writer.add_text("layer", ...))
// has no logged shapes or values: checkPictures finds how add_images tiled the batch and checks the
// layer against the pictures themselves; the values then come from the pictures (256 levels).
// Shared by the TensorBoard dashboard (index.js) and the notebook widget (utils/viewer.py).
// No build step, no imports, nothing from the network.

const STYLE = `
.pv { font: 13px/1.4 Roboto, Arial, sans-serif; color: #212121; }
.pv-controls { display: flex; flex-wrap: wrap; gap: 6px 16px; align-items: center; margin: 4px 0 10px; }
.pv-controls label { display: inline-flex; gap: 6px; align-items: center; }
.pv-slider { width: 260px; }
.pv-step { width: 5em; }
.pv-panes { display: flex; gap: 20px; align-items: flex-start; flex-wrap: wrap; }
.pv-panes figure { margin: 0; }
.pv-panes figcaption { color: #555; margin-bottom: 4px; }
.pv canvas { image-rendering: pixelated; display: block; cursor: crosshair; box-shadow: 0 0 0 1px #9e9e9e; }
.pv canvas:focus { outline: 3px solid #1a73e8; outline-offset: 3px; }
.pv canvas:focus:not(:focus-visible) { outline: none; }
.pv-info { min-width: 260px; max-width: 420px; }
.pv-info table { border-collapse: collapse; margin: 6px 0; }
.pv-info td { border: 1px solid #bbb; padding: 2px 6px; text-align: right; font-family: monospace; }
.pv-info td.pad { color: #1565c0; background: #e3f2fd; }
.pv-info td.over { color: #b33c00; background: #fff3e0; }
.pv-info td.win { font-weight: bold; background: #ffe0e6; }
.pv-note { color: #595959; }
.pv-problem { color: #b00020; }
.pv-legend span { display: inline-block; margin-right: 12px; }
.pv-legend i { display: inline-block; width: 10px; height: 10px; border: 2px solid; margin-right: 4px; vertical-align: -2px; }
.pv-legend i.dashed { border-style: dashed; }
`;
const COLOURS = { real: "#ff1744", pad: "#2979ff", over: "#ff9100", out: "#ff1744" };
const CHANNELS = ["R", "G", "B"];

// --- window arithmetic (PyTorch's pooling semantics) -------------------------------------------
function axisCells(o, k, s, p, d, n) {
  const cells = [];
  for (let t = 0; t < k; t++) {
    const idx = o * s - p + t * d;
    cells.push({ idx, kind: idx < 0 ? "pad" : idx < n ? "real" : idx < n + p ? "pad" : "over" });
  }
  return cells;
}

// Output size along one axis, as PyTorch computes it (ceil_mode drops a window starting in the padding).
export function outSize(n, k, s, p, d, ceil) {
  const span = n + 2 * p - d * (k - 1) - 1;
  if (span < 0) return 0;
  let o = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (o - 1) * s >= n + p) o -= 1;
  return o;
}

// The k×k cells of output pixel (i, j)'s window, row-major: {r, c, kind: real|pad|over}.
export function poolWindow(layer, H, W, i, j) {
  const rows = axisCells(i, layer.kernel_size[0], layer.stride[0], layer.padding[0], layer.dilation[0], H);
  const cols = axisCells(j, layer.kernel_size[1], layer.stride[1], layer.padding[1], layer.dilation[1], W);
  const cells = [];
  for (const r of rows) for (const c of cols) {
    const kinds = [r.kind, c.kind];
    const kind = kinds.includes("over") ? "over" : kinds.includes("pad") ? "pad" : "real";
    cells.push({ r: r.idx, c: c.idx, kind });
  }
  return cells;
}

// Where image k of an N-image batch sits in the logged grid picture (or null if it does not fit).
export function imageRect(grid, shape, k, width, height) {
  const [N, , H, W] = shape;
  const cols = Math.min(N, grid.ncols), rows = Math.ceil(N / cols), pad = N === 1 ? 0 : grid.padding;
  if (cols * W + (cols + 1) * pad !== width || rows * H + (rows + 1) * pad !== height) return null;
  return { x: pad + (k % cols) * (W + pad), y: pad + Math.floor(k / cols) * (H + pad), w: W, h: H };
}

// --- runs written by a plain SummaryWriter loop: the layer checked against the pictures ---------------
// RGBA pixels of a picture (ImageBitmap or image element), as the PNG stores them.
function pixelsOf(bitmap) {
  const canvas = document.createElement("canvas");
  canvas.width = bitmap.width; canvas.height = bitmap.height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
}

// Largest difference (in 0–255 levels) between the layer applied to every input tile and the output
// picture; stops early once it exceeds `limit`.
function poolError(layer, inPix, inWidth, outPix, outWidth, tiles, limit) {
  const { rows, cols, H, W, Ho, Wo } = tiles, C = 3;
  const [kh, kw] = layer.kernel_size, [sh, sw] = layer.stride, [ph, pw] = layer.padding, [dh, dw] = layer.dilation;
  let worst = 0;
  for (let ty = 0; ty < rows; ty++) for (let tx = 0; tx < cols; tx++)
    for (let i = 0; i < Ho; i++) for (let j = 0; j < Wo; j++) for (let c = 0; c < C; c++) {
      let best = -Infinity, sum = 0, real = 0, inside = 0;
      for (let a = 0; a < kh; a++) {
        const r = i * sh - ph + a * dh;
        for (let b = 0; b < kw; b++) {
          const q = j * sw - pw + b * dw;
          if (r < H + ph && q < W + pw) inside++;  // the padded extent (the ceil overhang is not)
          if (r < 0 || q < 0 || r >= H || q >= W) continue;
          const v = inPix[((ty * H + r) * inWidth + tx * W + q) * 4 + c];
          real++; sum += v; if (v > best) best = v;
        }
      }
      const y = outPix[((ty * Ho + i) * outWidth + tx * Wo + j) * 4 + c];
      const want = layer.kind === "max" ? best
        : sum / (layer.divisor_override || (layer.count_include_pad ? inside : real));
      worst = Math.max(worst, Math.abs(want - y));
      if (worst > limit) return worst;
    }
  return worst;
}

// How add_images (8 per row, edge to edge) may have tiled an inW×inH picture: [{rows, cols, H, W}].
function tilings(inW, inH) {
  const found = [];
  for (let cols = 8; cols >= 1; cols--) {
    if (inW % cols) continue;
    for (let rows = 1; rows <= (cols === 8 ? inH : 1); rows++)
      if (inH % rows === 0) found.push({ rows, cols, H: inH / rows, W: inW / cols });
  }
  return found;
}

// The layer variants a text may mean: repr(nn.AvgPool2d) shows neither ceil_mode nor count_include_pad.
function variants(layer) {
  const base = { ...layer };
  delete base.unsure;
  let out = [base];
  for (const key of layer.unsure || []) out = out.flatMap((l) => [l, { ...l, [key]: !l[key] }]);
  return out;
}

// Check `layer` against one step's pictures (as add_images wrote them). Returns {shapes, values,
// layer, settled} (the layer as the pictures show it; settled: what they said about the layer's
// "unsure" settings, e.g. "ceil_mode=True") or {problem} (a sentence for a student).
export function checkPictures(layer, bitmaps) {
  const inW = bitmaps.input.width, inH = bitmaps.input.height;
  const outW = bitmaps.output.width, outH = bitmaps.output.height;
  const inPix = pixelsOf(bitmaps.input), outPix = pixelsOf(bitmaps.output);
  let sizesFit = false, chosen = null;
  const settled = [];
  if (layer.kind === "dropout") {
    if (inW === outW && inH === outH) chosen = { tiles: { rows: 1, cols: 1, H: inH, W: inW, Ho: inH, Wo: inW }, layer };
  } else {
    // max pooling commutes with add_images' rounding down (exact); an average may differ by one level
    const limit = layer.kind === "max" ? 0 : 1.001;
    for (const t of tilings(inW, inH)) {
      const fits = [];
      for (const l of variants(layer)) {
        const A = [0, 1].map((a) => outSize(a ? t.W : t.H, l.kernel_size[a], l.stride[a], l.padding[a], l.dilation[a], l.ceil_mode));
        if (A[0] < 1 || A[1] < 1 || A[0] * t.rows !== outH || A[1] * t.cols !== outW) continue;
        sizesFit = true;
        const tiles = { ...t, Ho: A[0], Wo: A[1] };
        if (poolError(l, inPix, inW, outPix, outW, tiles, limit) <= limit) fits.push({ tiles, layer: l });
      }
      if (!fits.length) continue;
      chosen = fits[0];
      for (const key of layer.unsure || []) {
        const seen = new Set(fits.map((f) => f.layer[key]));
        settled.push(seen.size === 1 ? `${key}=${chosen.layer[key] ? "True" : "False"}` : `${key} makes no difference here`);
      }
      break;
    }
  }
  if (!chosen) {
    const made = layer.kind === "dropout" ? "the same size as its input"
      : sizesFit ? "pictures of the right size, but with other values" : "pictures of another size";
    return { problem: `${layer.repr} does not turn this run's input pictures (${inH}×${inW}) into its output pictures `
      + `(${outH}×${outW}): from these inputs it would make ${made}. Log the layer that made the output, `
      + `e.g. writer.add_text("layer", repr(tudui)) in the loop that wrote the run, and run the loop again.` };
  }
  const { rows, cols, H, W, Ho, Wo } = chosen.tiles, N = rows * cols;
  let grey = true;
  for (const pix of [inPix, outPix]) for (let t = 0; grey && t < pix.length; t += 4)
    if (pix[t] !== pix[t + 1] || pix[t] !== pix[t + 2]) grey = false;
  const C = grey ? 1 : 3;
  const values = (pix, width, h, w) => {
    const data = new Float32Array(N * C * h * w);
    for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let r = 0; r < h; r++) for (let q = 0; q < w; q++) {
      const y = Math.floor(n / cols) * h + r, x = (n % cols) * w + q;
      data[((n * C + c) * h + r) * w + q] = pix[(y * width + x) * 4 + c] / 255;
    }
    return { shape: [N, C, h, w], data };
  };
  return {
    layer: chosen.layer, settled,
    shapes: { input: [N, C, H, W], output: [N, C, Ho, Wo] },
    values: { input: values(inPix, inW, H, W), output: values(outPix, outW, Ho, Wo) },
  };
}

export function decodeValues(entry) {
  const bytes = Uint8Array.from(atob(entry.data), (ch) => ch.charCodeAt(0));
  return { shape: entry.shape, data: new Float32Array(bytes.buffer) };
}

function at(values, n, c, h, w) {
  const [, C, H, W] = values.shape;
  return values.data[((n * C + c) * H + h) * W + w];
}

const fmt = (v) => (v === undefined || v === null ? "" : Number.isFinite(v) ? v.toFixed(3) : String(v));

let uidCount = 0;
const uid = (name) => `pv-${name}-${++uidCount}`;

function el(tag, attrs = {}, children = []) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const child of [].concat(children)) node.append(child);
  return node;
}

// --- the viewer -----------------------------------------------------------------------------------
// source: {steps: [{step, shapes: {input, output} | null, values: bool}], layer, grid,
//          loadImages(index) -> Promise<{input, output}> (ImageBitmap or image elements),
//          loadValues(index) -> Promise<{input, output} | null>} (decoded with decodeValues)
// options.fitHeight: fit the default zoom to the window's height too (the dashboard's own frame).
export function mountPairViewer(root, options = {}) {
  root.append(el("style", { text: STYLE }));
  const slider = el("input", { type: "range", class: "pv-slider", min: 0, max: 0, value: 0, "aria-label": "step" });
  const stepBox = el("input", { type: "number", class: "pv-step", min: 0, "aria-label": "step number" });
  const stepOf = el("span", { class: "pv-note" });
  const imageSel = el("select", { class: "pv-image" });
  const zoomSel = el("select", { class: "pv-zoom" });
  for (let z = 1; z <= 16; z++) zoomSel.append(el("option", { value: z, text: `×${z}` }));
  const channelSel = el("select", { class: "pv-channel" });
  CHANNELS.forEach((name, c) => channelSel.append(el("option", { value: c, text: name })));
  const inCanvas = el("canvas", { class: "pv-input", role: "img" });
  // data-lm-suppress-shortcuts: inside JupyterLab the arrow keys and Enter move the selected pixel,
  // not the notebook's cells (Lumino's key bindings stop at this attribute)
  const outCanvas = el("canvas", { class: "pv-output", tabindex: 0, role: "application",
                                   "data-lm-suppress-shortcuts": "true" });
  const inCap = el("figcaption", { id: uid("in-cap") }), outCap = el("figcaption", { id: uid("out-cap") });
  inCanvas.setAttribute("aria-labelledby", inCap.id);
  const info = el("div", { class: "pv-info", "aria-live": "polite", id: uid("info") });
  const status = el("div", { class: "pv-note pv-status", role: "status" });
  const legend = el("div", { class: "pv-legend pv-note" });
  const channelLabel = el("label", {}, ["channel", channelSel]);
  const imageLabel = el("label", {}, ["image", imageSel]);
  const box = el("div", { class: "pv" }, [
    el("div", { class: "pv-controls" }, [
      el("label", {}, ["step", slider, stepBox, stepOf]), imageLabel, el("label", {}, ["zoom", zoomSel]),
      channelLabel]),
    el("div", { class: "pv-panes" }, [
      el("figure", {}, [inCap, inCanvas]), el("figure", {}, [outCap, outCanvas]), info]),
    legend, status]);
  root.append(box);

  const panes = box.querySelector(".pv-panes");
  const state = { source: null, index: 0, image: 0, zoom: 4, channel: 0, hover: null, pinned: false,
                  bitmaps: new Map(), values: new Map(), margin: 0, rects: null, checked: new Map(),
                  autoZoom: true, notes: "" };

  function current() { return state.source && state.source.steps[state.index]; }
  function problem() { const c = state.checked.get(state.index); return c && c.problem; }
  function kind() { const layer = state.source && state.source.layer; return layer ? layer.kind : null; }

  function layoutFor(bitmaps) {
    const entry = current(), grid = state.source.grid;
    if (!entry.shapes || !grid) return null;
    const k = Math.min(state.image, entry.shapes.input[0] - 1);
    const input = imageRect(grid, entry.shapes.input, k, bitmaps.input.width, bitmaps.input.height);
    const output = imageRect(grid, entry.shapes.output, k, bitmaps.output.width, bitmaps.output.height);
    return input && output ? { input, output, k } : null;
  }

  function marginFor(layout) {
    const layer = state.source.layer;
    if (!layout || !layer || (layer.kind !== "max" && layer.kind !== "avg")) return 0;
    let m = 0;
    for (const a of [0, 1]) {
      const n = a ? layout.input.w : layout.input.h, o = a ? layout.output.w : layout.output.h;
      const end = (o - 1) * layer.stride[a] - layer.padding[a] + layer.dilation[a] * (layer.kernel_size[a] - 1) + 1;
      m = Math.max(m, layer.padding[a], end - n);
    }
    return m;
  }

  // The largest zoom at which input, output and the values table fit side by side (at least ×1).
  function fitZoom(inW, inH, outW) {
    const width = (box.clientWidth || window.innerWidth) - 300 - 2 * 20;  // the table, two gaps
    const top = options.fitHeight ? panes.getBoundingClientRect().top + window.scrollY : 0;
    const height = options.fitHeight ? window.innerHeight - top - 56 : 560;  // captions, legend, status
    return Math.max(1, Math.min(16, Math.floor(width / (inW + outW)), Math.floor(height / inH)));
  }

  function draw() {
    const entry = current(), bitmaps = entry && state.bitmaps.get(state.index);
    if (!bitmaps) return;
    const layout = layoutFor(bitmaps);
    state.rects = layout;
    const M = (state.margin = marginFor(layout));
    const src = layout ? layout.input : { x: 0, y: 0, w: bitmaps.input.width, h: bitmaps.input.height };
    const dst = layout ? layout.output : { x: 0, y: 0, w: bitmaps.output.width, h: bitmaps.output.height };
    if (state.autoZoom) {
      state.zoom = fitZoom(src.w + 2 * M, src.h + 2 * M, dst.w);
      zoomSel.value = state.zoom;
    }
    const z = state.zoom;
    inCanvas.width = (src.w + 2 * M) * z; inCanvas.height = (src.h + 2 * M) * z;
    outCanvas.width = dst.w * z; outCanvas.height = dst.h * z;
    for (const c of [inCanvas, outCanvas]) { c.style.width = `${c.width}px`; c.style.height = `${c.height}px`; }
    const ci = inCanvas.getContext("2d"), co = outCanvas.getContext("2d");
    ci.imageSmoothingEnabled = false; co.imageSmoothingEnabled = false;
    ci.fillStyle = "#eceff1"; ci.fillRect(0, 0, inCanvas.width, inCanvas.height);
    ci.drawImage(bitmaps.input, src.x, src.y, src.w, src.h, M * z, M * z, src.w * z, src.h * z);
    co.drawImage(bitmaps.output, dst.x, dst.y, dst.w, dst.h, 0, 0, dst.w * z, dst.h * z);
    inCap.textContent = `input ${src.h}×${src.w} (H×W)` + (M ? ` (grey: ${M} cell margin outside the image)` : "");
    outCap.textContent = `output ${dst.h}×${dst.w}`;  // H×W, as PyTorch's shapes
    const explains = layout && kind() && kind() !== "other";
    outCanvas.setAttribute("aria-label", `output ${dst.h}×${dst.w}` + (explains
      ? ": arrow keys choose an output pixel, Enter or Space pins it, Escape unpins; its window and values are listed beside the pictures"
      : ""));
    if (state.hover) drawHover(ci, co);
    box.dataset.drawnStep = entry.step;
    box.dataset.drawnAt = performance.now();
    box.dispatchEvent(new CustomEvent("pv-drawn", { detail: { step: entry.step } }));
  }

  function outline(ctx, r, c, colour, dashed, offset) {
    const z = state.zoom, w = Math.max(1, Math.min(2, Math.floor(z / 3)));
    ctx.save();
    ctx.strokeStyle = colour; ctx.lineWidth = w;
    if (dashed) ctx.setLineDash([Math.max(2, z / 4), Math.max(2, z / 4)]);
    ctx.strokeRect((c + offset) * z + w / 2, (r + offset) * z + w / 2, z - w, z - w);
    if (z < 4) { ctx.globalAlpha = 0.45; ctx.fillStyle = colour; ctx.fillRect((c + offset) * z, (r + offset) * z, z, z); }
    ctx.restore();
  }

  // A black-and-yellow frame around cells r0..r1, c0..c1, so that the eye finds them on any picture.
  function frame(ctx, r0, c0, r1, c1, offset) {
    const z = state.zoom, x = (c0 + offset) * z - 3, y = (r0 + offset) * z - 3;
    const w = (c1 - c0 + 1) * z + 6, h = (r1 - r0 + 1) * z + 6;
    ctx.save();
    ctx.lineWidth = 3; ctx.strokeStyle = "rgba(0, 0, 0, 0.85)"; ctx.strokeRect(x, y, w, h);
    ctx.lineWidth = 1; ctx.strokeStyle = "#ffeb3b"; ctx.strokeRect(x, y, w, h);
    ctx.restore();
  }

  function drawHover(ci, co) {
    const { i, j } = state.hover, layer = state.source.layer, M = state.margin, rects = state.rects;
    frame(co, i, j, i, j, 0);
    outline(co, i, j, COLOURS.out, false, 0);
    if (!rects) return;
    if (layer.kind === "dropout") { frame(ci, i, j, i, j, M); outline(ci, i, j, COLOURS.real, false, M); return; }
    const cells = poolWindow(layer, rects.input.h, rects.input.w, i, j);
    const rs = cells.map((q) => q.r), cs = cells.map((q) => q.c);
    frame(ci, Math.min(...rs), Math.min(...cs), Math.max(...rs), Math.max(...cs), M);
    for (const cell of cells) outline(ci, cell.r, cell.c, COLOURS[cell.kind], cell.kind !== "real", M);
  }

  function renderInfo() {
    info.replaceChildren();
    for (const key of Object.keys(info.dataset)) delete info.dataset[key];
    const layer = state.source && state.source.layer, entry = current();
    if (!state.hover || !layer || !state.rects) return;
    if (state.pinned) info.dataset.pinned = "true";
    const { i, j } = state.hover, k = state.rects.k, c = state.channel;
    const values = state.values.get(state.index);
    Object.assign(info.dataset, { run: state.source.run || "", image: k, channel: c, row: i, col: j, step: entry.step });
    const where = `image ${k}, ${CHANNELS[c] || c}, row ${i}, column ${j}`;
    if (layer.kind === "dropout") {
      const scale = 1 / (1 - layer.p);
      info.append(el("div", { text: `output pixel (${where}); ${layer.repr || "dropout p=" + layer.p}` }));
      if (!values) return info.append(el("div", { class: "pv-note", text: entry.values ? "loading values…" : "values were not logged for this step" }));
      const x = at(values.input, k, c, i, j), y = at(values.output, k, c, i, j);
      const kept = y !== 0 ? "kept" : x === 0 ? "input is 0: kept or dropped, the output is 0 either way" : "dropped";
      Object.assign(info.dataset, { input: x, output: y, kept: y !== 0 ? "kept" : x === 0 ? "unknown" : "dropped" });
      info.append(el("table", {}, [
        el("tr", {}, [el("td", { text: "input" }), el("td", { class: "pv-in", text: fmt(x) })]),
        el("tr", {}, [el("td", { text: "decision" }), el("td", { class: "pv-kept", text: kept })]),
        el("tr", {}, [el("td", { text: "output" }), el("td", { class: "pv-out", text: fmt(y) })])]));
      const why = y !== 0 ? `kept values are multiplied by 1/(1−p) = ${fmt(scale)}` : "dropped values become 0";
      info.append(el("div", { class: "pv-note", text: why + (y > 1 ? `; the PNG shows ${fmt(1)} (values above 1 are clipped to white)` : "") }));
      return;
    }
    if (layer.kind !== "max" && layer.kind !== "avg") return;
    const cells = poolWindow(layer, state.rects.input.h, state.rects.input.w, i, j);
    const [kh, kw] = layer.kernel_size;
    info.append(el("div", { text: `output pixel (${where})` }));
    info.append(el("div", { class: "pv-note", text: layer.repr || "" }));
    info.dataset.cells = JSON.stringify(cells.map((q) => [q.r, q.c, q.kind]));
    if (!values) {
      info.append(el("div", { class: "pv-note", text: entry.values ? "loading values…" : "values were not logged for this step" }));
      return;
    }
    const x = cells.map((q) => (q.kind === "real" ? at(values.input, k, c, q.r, q.c) : null));
    const y = at(values.output, k, c, i, j);
    const real = x.filter((v) => v !== null);
    let winner = -1, text;
    if (layer.kind === "max") {
      x.forEach((v, t) => { if (v !== null && (winner < 0 || v > x[winner])) winner = t; });
      text = `max of ${real.length} input value${real.length === 1 ? "" : "s"} (padding counts as −∞) = ${fmt(y)}`;
    } else {
      const inside = cells.filter((q) => q.kind !== "over").length;
      const divisor = layer.divisor_override || (layer.count_include_pad ? inside : real.length);
      const sum = real.reduce((a, b) => a + b, 0);
      info.dataset.divisor = divisor; info.dataset.sum = sum;
      text = `sum ${fmt(sum)} / ${divisor} = ${fmt(y)}` + (layer.divisor_override ? " (divisor_override)"
        : layer.count_include_pad ? " (padding counts as 0 and in the divisor; the ceil-mode overhang does not)"
        : " (count_include_pad=False: only real pixels are counted)");
    }
    info.dataset.output = y;
    info.dataset.values = JSON.stringify(x);
    info.dataset.winner = winner;
    const table = el("table", { class: "pv-window" });
    for (let a = 0; a < kh; a++) {
      const tr = el("tr");
      for (let b = 0; b < kw; b++) {
        const t = a * kw + b, q = cells[t];
        const label = q.kind === "real" ? fmt(x[t]) : q.kind === "pad" ? (layer.kind === "max" ? "pad −∞" : "pad 0") : "outside";
        tr.append(el("td", { class: q.kind === "real" ? (t === winner ? "win" : "") : q.kind, text: label }));
      }
      table.append(tr);
    }
    info.append(table, el("div", { class: "pv-out", text }));
    if (state.source.fromPictures)
      info.append(el("div", { class: "pv-note", text: "values read from the logged pictures (256 levels from 0 to 1, rounded down): an average may differ by 1/255" }));
    if (layer.dilation && (layer.dilation[0] > 1 || layer.dilation[1] > 1))
      info.append(el("div", { class: "pv-note", text: `dilation ${layer.dilation.join("×")}: the window takes one pixel in every ${layer.dilation[0]} (the holes between are skipped)` }));
  }

  function refreshHover() {
    const bitmaps = state.bitmaps.get(state.index);
    if (bitmaps) { draw(); renderInfo(); }
  }

  function pixelAt(event, canvas, margin) {
    const rect = canvas.getBoundingClientRect(), z = state.zoom;
    const j = Math.floor((event.clientX - rect.left) / z) - margin, i = Math.floor((event.clientY - rect.top) / z) - margin;
    const out = state.rects ? state.rects.output : null;
    if (!out || i < 0 || j < 0 || i >= out.h || j >= out.w) return null;
    return { i, j };
  }

  function explains() { return kind() && kind() !== "other" && state.rects; }

  function onMove(event, canvas, margin) {
    if (state.pinned || !explains()) return;
    const p = pixelAt(event, canvas, margin);
    if (!p || (state.hover && p.i === state.hover.i && p.j === state.hover.j)) return;
    state.hover = p; refreshHover();
  }
  outCanvas.addEventListener("mousemove", (e) => onMove(e, outCanvas, 0));
  inCanvas.addEventListener("mousemove", (e) => { if (kind() === "dropout") onMove(e, inCanvas, state.margin); });
  outCanvas.addEventListener("click", (e) => {
    state.pinned = !state.pinned;
    if (!state.pinned) onMove(e, outCanvas, 0);
    box.dataset.pinned = state.pinned;
    renderInfo();
  });

  // Keyboard: the selected pixel moves with the arrow keys, whether pinned or not (the pin only stops
  // the mouse from moving it).
  outCanvas.addEventListener("focus", () => {
    if (!state.hover && explains()) { state.hover = { i: 0, j: 0 }; refreshHover(); }
  });
  outCanvas.addEventListener("keydown", (event) => {
    if (!explains()) return;
    const out = state.rects.output, p = state.hover ? { ...state.hover } : { i: 0, j: 0 };
    const moves = {
      ArrowLeft: () => { p.j = Math.max(0, p.j - 1); }, ArrowRight: () => { p.j = Math.min(out.w - 1, p.j + 1); },
      ArrowUp: () => { p.i = Math.max(0, p.i - 1); }, ArrowDown: () => { p.i = Math.min(out.h - 1, p.i + 1); },
      Home: () => { p.j = 0; }, End: () => { p.j = out.w - 1; },
      PageUp: () => { p.i = 0; }, PageDown: () => { p.i = out.h - 1; },
    };
    if (moves[event.key]) moves[event.key]();
    else if (event.key === "Enter" || event.key === " ") state.pinned = !state.pinned;
    else if (event.key === "Escape" && state.pinned) state.pinned = false;
    else return;
    event.preventDefault();
    box.dataset.pinned = state.pinned;
    state.hover = p; refreshHover();
  });

  // Loads finish late: one started for another run (before setSource) must not land in this run's maps.
  async function ensure(index) {
    const source = state.source, bitmaps = state.bitmaps;
    if (!bitmaps.has(index)) {
      const loaded = await source.loadImages(index);
      if (state.source !== source) return null;
      bitmaps.set(index, loaded);
    }
    return bitmaps.get(index);
  }

  async function ensureValues(index) {
    const source = state.source, entry = source.steps[index];
    if (!entry.values || state.values.has(index)) return;
    const values = await source.loadValues(index);
    if (state.source !== source) return;
    if (values) state.values.set(index, values);
    if (index === state.index) renderInfo();
  }

  // A plain SummaryWriter run: check the layer against this step's pictures (once per step).
  function checkStep(index) {
    const source = state.source, entry = source.steps[index];
    if (!source.fromPictures || state.checked.has(index) || !source.layer || source.layer.kind === "other") return;
    const result = checkPictures(source.layer, state.bitmaps.get(index));
    state.checked.set(index, result);
    if (result.problem) return;
    entry.shapes = result.shapes;
    state.values.set(index, result.values);
    if (source.layer.unsure) {  // settled by the pictures: say so once
      source.layer = { ...result.layer, repr: `${source.layer.repr}; from the pictures: ${result.settled.join(", ")} `
        + `(repr() does not show ${source.layer.unsure.join(" or ")})` };
      if (source.onLayer) source.onLayer(source.layer);
    }
  }

  async function show(index) {
    const source = state.source;
    state.index = index;
    slider.value = index;
    const entry = current();
    stepBox.value = entry.step;
    stepOf.textContent = `${index + 1} of ${source.steps.length}`;
    slider.setAttribute("aria-valuetext", `step ${entry.step} (${index + 1} of ${source.steps.length})`);
    if (source.fromPictures && !state.bitmaps.has(index)) await ensure(index);
    if (state.source !== source || state.index !== index) return;
    checkStep(index);
    const trouble = problem();
    status.textContent = trouble || state.notes;
    status.classList.toggle("pv-problem", Boolean(trouble));
    const n = entry.shapes ? entry.shapes.input[0] : 0;
    if (imageSel.options.length !== n) {
      imageSel.replaceChildren(...Array.from({ length: n }, (_, k) => el("option", { value: k, text: `${k}` })));
      state.image = Math.min(state.image, Math.max(0, n - 1));
    }
    imageSel.value = state.image;
    imageLabel.style.display = n ? "" : "none";
    channelLabel.style.display = entry.shapes && entry.shapes.input[1] === 3 ? "" : "none";
    if (!state.bitmaps.has(index)) await ensure(index);
    if (state.source !== source || state.index !== index) return;
    draw(); renderInfo();
    ensureValues(index);
  }

  slider.addEventListener("input", () => show(Number(slider.value)));
  stepBox.addEventListener("change", () => {
    const steps = state.source.steps.map((s) => s.step), want = Number(stepBox.value);
    let best = 0;
    steps.forEach((s, t) => { if (Math.abs(s - want) < Math.abs(steps[best] - want)) best = t; });
    show(best);
  });
  imageSel.addEventListener("change", () => { state.image = Number(imageSel.value); refreshHover(); });
  zoomSel.addEventListener("change", () => { state.zoom = Number(zoomSel.value); state.autoZoom = false; refreshHover(); });
  channelSel.addEventListener("change", () => { state.channel = Number(channelSel.value); renderInfo(); });

  // source.notice: what to tell the student instead of the usual hint (e.g. the layer cannot be read).
  function setSource(source) {
    Object.assign(state, { source, index: 0, hover: null, pinned: false, bitmaps: new Map(), values: new Map(),
                           checked: new Map(), autoZoom: true });
    delete box.dataset.drawnStep;  // what is drawn belongs to the previous run until the first draw
    box.dataset.pinned = false;
    slider.max = Math.max(0, source.steps.length - 1);
    const layer = source.layer;
    legend.replaceChildren();
    const notes = [];
    if (source.notice) notes.push(source.notice);
    else if (!layer) notes.push("This run has the pictures but not the layer that made them, so PAIRS cannot show windows. "
      + "Add this line to the loop that wrote the run, after writer = SummaryWriter(...), with the name of your own "
      + "module, and run the loop again: writer.add_text(\"layer\", repr(tudui)). "
      + "(A run written with ImageRun: ImageRun(name, layer=tudui.maxpool1).)");
    else if (layer.kind === "other") notes.push(`${layer.type}: no hover details for this kind of layer.`);
    else {
      notes.push((layer.kind === "dropout" ? "Hover a pixel: was it kept or dropped? Click to pin."
        : "Hover an output pixel to see its window on the input; click to pin.")
        + " Keyboard: Tab to the output picture, then arrow keys, Enter to pin.");
      if (layer.kind !== "dropout")
        for (const [name, text] of [["real", "window pixel (solid)"], ["pad", "padding (dashed)"], ["over", "ceil_mode overhang, ignored (dashed)"]])
          legend.append(el("span", {}, [el("i", { class: name === "real" ? "" : "dashed", style: `border-color: ${COLOURS[name]}` }), text]));
    }
    state.notes = notes.join(" ");
    status.textContent = state.notes;
    status.classList.remove("pv-problem");
    if (!source.steps.length) { status.textContent = "No steps with both images yet."; return Promise.resolve(); }
    const shown = show(0);
    // Prefetch every step so that moving the slider only draws.
    source.steps.forEach((_, t) => ensure(t).catch(() => {}));
    return shown;
  }

  return { setSource, element: box, show };
}
