// nablagrad playground: the page only draws; training happens in the server with nablagrad.
// Every control, default and range comes from the server's field table (GET /api/schema).
"use strict";

const $ = (id) => document.getElementById(id);
const PALETTE = [[245, 147, 34], [8, 119, 189], [60, 170, 80], [150, 80, 190], [210, 50, 60]];

let schema = null;       // the field table and formulas
let fields = {};         // name → field
let config = null;       // the current configuration (every field)
let session = null, socket = null;
let points = { train: [], test: [] };
let history = [];
let last = null, dirty = false;
let frames = 0;          // frames drawn (the browser test reads it)
let rate = { t: 0, epoch: 0 };
let linkPos = [];        // [x0, y0, x1, y1, layer, source, target] of each drawn link
let hovered = null;
let ended = null;        // why the session is over (deleted on the server): the page stops and says so

// --- configuration ↔ URL ------------------------------------------------------------------------
function parseValue(f, v) {
  if (f.type === "list") return v === "" ? [] : v.split(",").map((s) => (f.item === "int" ? Number(s) : s));
  if (f.type === "int" || f.type === "float") return Number(v);
  return v;
}

let urlNote = "";        // a problem with the page's URL, shown once the session has started

function readUrl() {
  const cfg = JSON.parse(JSON.stringify(schema.defaults));
  const q = new URLSearchParams(location.search);
  const repeated = [];
  for (const k of new Set(q.keys())) {
    if (!(k in fields)) continue;
    const all = q.getAll(k);
    if (all.length > 1) repeated.push(`${k} (${all.join(", ")})`);  // ambiguous: not silently the last one
    else cfg[k] = parseValue(fields[k], all[0]);
  }
  urlNote = repeated.length ? `the URL gives ${repeated.join("; ")} more than once; the default is used — give each parameter once` : "";
  const info = schema.datasets[cfg.dataset];
  if (q.getAll("problem").length !== 1 && info) cfg.problem = info.regression ? "regression" : "classification";
  return cfg;
}

function writeUrl() {
  const q = new URLSearchParams();
  for (const f of schema.fields) {
    const v = config[f.name];
    q.set(f.name, Array.isArray(v) ? v.join(",") : String(v));
  }
  window.history.replaceState(null, "", location.pathname + "?" + q.toString());
}

// --- controls built from the field table -------------------------------------------------------
function optionLabel(f, v) {
  if (f.name === "speed" && Number(v) === 0) return "max";
  return String(v);
}

function buildControls() {
  for (const f of schema.fields) {
    const box = $("group-" + f.group);
    if (!box || f.control === "none" || f.control === "layers") continue;
    if (f.control === "checkboxes") {
      const set = document.createElement("fieldset");
      set.id = f.name; set.dataset.testid = f.name;
      const legend = document.createElement("legend"); legend.textContent = f.label; set.append(legend);
      for (const c of f.choices) {
        const lab = document.createElement("label");
        const box2 = document.createElement("input");
        box2.type = "checkbox"; box2.value = c;
        lab.append(box2, " " + (schema.feature_labels[c] || c));
        set.append(lab);
      }
      set.addEventListener("change", () => {
        config[f.name] = [...set.querySelectorAll("input:checked")].map((b) => b.value);
        changed();
      });
      box.append(set);
      continue;
    }
    const lab = document.createElement("label");
    lab.textContent = f.label + " ";
    let el;
    if (f.control === "range") {
      el = document.createElement("input");
      el.type = "range"; el.min = f.lo; el.max = f.hi; el.step = f.step;
      const out = document.createElement("output"); out.id = f.name + "_out";
      lab.append(out);
      el.addEventListener("input", () => { config[f.name] = Number(el.value); out.textContent = el.value; changed(); });
    } else {
      el = document.createElement("select");
      for (const c of f.choices || f.presets) el.add(new Option(optionLabel(f, c), String(c)));
      el.addEventListener("change", () => {
        config[f.name] = f.type === "choice" ? el.value : Number(el.value);
        if (f.name === "dataset" && el.value in schema.datasets) {
          config.problem = schema.datasets[el.value].regression ? "regression" : "classification";
        }
        if (f.name === "optimizer") drawPaths();
        showControls();
        changed(fields[f.name].live);
      });
    }
    el.id = f.name; el.dataset.testid = f.name; el.setAttribute("aria-label", f.label);
    if (f.help) el.title = f.help;
    lab.append(el);
    box.append(lab);
  }
}

function showControls() {
  for (const f of schema.fields) {
    const el = $(f.name);
    if (!el || f.control === "none" || f.control === "layers") continue;
    if (f.control === "checkboxes") {
      for (const b of el.querySelectorAll("input")) b.checked = config[f.name].includes(b.value);
      continue;
    }
    const v = String(config[f.name]);
    if (el.tagName === "SELECT" && ![...el.options].some((o) => o.value === v)) el.add(new Option(optionLabel(f, v), v));
    el.value = v;
    if (f.control === "range") $(f.name + "_out").textContent = v;
  }
  const info = schema.datasets[config.dataset];
  $("classes").disabled = !(info && info.classes);
  $("points").disabled = $("noise").disabled = !info;  // an uploaded file has its own points
  $("loss").disabled = config.problem !== "classification";
  $("loss_formula").textContent = schema.losses[config.problem === "classification" ? config.loss : "mse"];
  $("update_rule").textContent = schema.optimizers[config.optimizer];
  showLayers();
}

// another name of an activation (linear) → the name the server stores (identity): the field's own table
const canonical = (a) => (fields.activations.aliases || {})[a] || a;

function showActivationMenu() {  // the menu shows the activation every hidden layer shares, or nothing
  const acts = config.activations.map(canonical), sel = $("activation");
  const shared = schema.activation_menu.find((a) => acts.length && acts.every((x) => x === canonical(a)));
  if (shared) sel.value = shared; else sel.selectedIndex = -1;
  sel.disabled = !config.layers.length;
}

function showLayers() {
  const acts = fields.activations.choices;
  showActivationMenu();
  $("layer_count").textContent = config.layers.length;
  const wrap = $("layer_buttons");
  wrap.innerHTML = "";
  config.layers.forEach((n, i) => {
    const d = document.createElement("div");
    const label = document.createElement("span");
    label.textContent = `${n} neurons`;
    const plus = button("+", `Add a neuron to layer ${i + 1}`, `add-neuron-${i + 1}`, () => {
      if (config.layers[i] < schema.limits.neurons) { config.layers[i]++; changed(); }
    });
    const minus = button("−", `Remove a neuron from layer ${i + 1}`, `remove-neuron-${i + 1}`, () => {
      if (config.layers[i] > 1) { config.layers[i]--; changed(); }
    });
    const sel = document.createElement("select");
    sel.setAttribute("aria-label", `Activation of layer ${i + 1}`);
    sel.dataset.testid = `activation-${i + 1}`;
    for (const a of acts) sel.add(new Option(a, a));
    sel.value = canonical(config.activations[i]);
    sel.onchange = () => { config.activations[i] = sel.value; changed(); };
    d.append(label, plus, minus, sel);
    wrap.append(d);
  });
}

function button(text, aria, testid, onclick) {
  const b = document.createElement("button");
  b.textContent = text; b.setAttribute("aria-label", aria); b.dataset.testid = testid; b.onclick = onclick;
  return b;
}

function status(msg) { $("status").textContent = msg || ""; }

// --- talking to the server ---------------------------------------------------------------------
async function startSession() {
  if (socket) { socket.onclose = null; socket.close(); }
  let res = await fetch("/api/sessions", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(config) });
  let body = await res.json();
  if (!res.ok) {  // e.g. a hand-edited URL or a forgotten upload: say why and start from the defaults
    const why = body.error;
    config = JSON.parse(JSON.stringify(schema.defaults));
    res = await fetch("/api/sessions", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(config) });
    body = await res.json();
    if (!res.ok) { status(body.error); return; }
    status(why + " — started from the defaults instead");
  }
  config = body.config;
  session = body.id;
  showControls();
  writeUrl();
  $("export_model").href = `/api/sessions/${session}/model.safetensors`;
  $("export_script").href = `/api/sessions/${session}/script.py`;
  const proto = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${proto}://${location.host}/ws/${session}`);
  socket.onmessage = (ev) => receive(JSON.parse(ev.data));
  socket.onclose = (ev) => {  // the server's close codes (schema.protocol) mean the session is gone or refused this page
    const { close_codes: codes, ended: endedText } = schema.protocol;
    if (ev.code === codes.ended) end(ev.reason || endedText);  // its "ended" message may be lost with it
    else if (Object.values(codes).includes(ev.code)) end(ev.reason || $("status").textContent);
    else status("connection closed — reload the page to continue");
  };
}

function send(msg) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(msg)); }

function end(message) {  // the session is gone: stop talking and drawing, keep the last picture and say why
  ended = message;
  if (socket) { socket.onclose = null; socket.onmessage = null; socket.close(); socket = null; }
  clearTimeout(pending); pending = null;
  for (const id of ["play", "pause", "step", "reset"]) $(id).disabled = true;
  for (const id of ["export_model", "export_script"]) $(id).removeAttribute("href");
  status(message);
}

function receive(msg) {
  if (ended) return;
  if (msg.type === "ended") { end(msg.message); return; }
  if (msg.type === "error") {  // a refused change changed nothing: show the configuration still in force
    status(msg.message);
    if (msg.config) { config = msg.config; showControls(); writeUrl(); }
    return;
  }
  if (msg.type === "inspect") { showInspect(msg); return; }
  if (msg.points) { points = msg.points; history = (msg.history || []).slice(); }
  if (msg.epoch === 0) history = [];
  else if (!history.length || history[history.length - 1][0] !== msg.epoch) history.push([msg.epoch, msg.train_loss, msg.test_loss]);
  const now = performance.now();
  if (!msg.playing) { $("rate").textContent = ""; rate = { t: 0, epoch: msg.epoch }; }
  else if (rate.t && msg.epoch > rate.epoch && now - rate.t > 500) {
    $("rate").textContent = `${Math.round((msg.epoch - rate.epoch) / ((now - rate.t) / 1000))} epochs/s`;
    rate = { t: now, epoch: msg.epoch };
  } else if (!rate.t || msg.epoch < rate.epoch) rate = { t: now, epoch: msg.epoch };
  last = msg;
  $("epoch").textContent = String(msg.epoch).padStart(6, "0");
  $("train_loss").textContent = msg.train_loss === null ? "NaN" : msg.train_loss.toFixed(3);
  $("test_loss").textContent = msg.test_loss === null ? "NaN" : msg.test_loss.toFixed(3);
  $("acc_box").hidden = msg.test_accuracy === null;
  if (msg.test_accuracy !== null) $("test_accuracy").textContent = (100 * msg.test_accuracy).toFixed(1) + "%";
  if (msg.status) status(msg.status);
  dirty = true;
}

let pending = null;
function changed(live) {
  writeUrl();
  showLayers();
  clearTimeout(pending);
  if (ended) return;  // nothing to send to: the URL still records the change for the reload
  // the server validates every change; a structural one restarts the run, a live one (speed) does not
  pending = setTimeout(() => { pending = null; if (!live) status(""); send({ action: "config", config }); }, 50);
}

function act(action) {  // a change not yet sent goes first, so "Step" right after a change steps the new run
  if (pending) { clearTimeout(pending); pending = null; send({ action: "config", config }); }
  if (action === "play" || action === "reset") status("");
  send({ action });
}

async function upload(file) {
  const text = await file.arrayBuffer();
  const res = await fetch(`/api/uploads?problem=auto`, { method: "POST", headers: { "Content-Type": "text/csv" }, body: text });
  const body = await res.json();
  if (!res.ok) { status(`${file.name}: ${body.error}`); $("upload_info").textContent = ""; return; }
  $("upload_info").textContent = `${file.name}: ${body.points} points, ${body.problem}` +
    (body.problem === "classification" ? ` (${body.classes} classes: ${body.class_names.join(", ")})` : "") + `; ${body.note}`;
  config.dataset = "upload"; config.upload = body.id; config.problem = body.problem;
  config.batch_size = Math.min(config.batch_size, Math.max(1, Math.floor(body.points * config.train_ratio / 100)));
  showControls();
  changed();
}

// --- drawing -----------------------------------------------------------------------------------
function colour(v) {  // −1 → orange, 0 → white, +1 → blue (as the TensorFlow Playground)
  const t = Math.max(-1, Math.min(1, v));
  const c = t < 0 ? PALETTE[0] : PALETTE[1], s = Math.abs(t);
  return [255 + (c[0] - 255) * s, 255 + (c[1] - 255) * s, 255 + (c[2] - 255) * s];
}

function mix(probs) {  // each class's colour weighted by its probability (in percent)
  const rgb = [0, 0, 0];
  let total = 0;
  probs.forEach((p, k) => { total += p; for (let i = 0; i < 3; i++) rgb[i] += p * PALETTE[k][i]; });
  const top = Math.max(...probs) / Math.max(total, 1), s = Math.max(0, (top * probs.length - 1) / (probs.length - 1));
  return rgb.map((c) => 255 + (c / Math.max(total, 1) - 255) * s);
}

function pointColour(label) {
  if (!last.classification) return colour(Math.tanh(label));
  return last.classes === 2 ? colour(2 * label - 1) : PALETTE[label];
}

const offscreen = {};  // size → a canvas and its pixels, reused by every frame
function drawCells(ctx, size, cell, x0, y0, w, h) {
  if (!offscreen[size]) {
    const canvas = document.createElement("canvas");
    canvas.width = size; canvas.height = size;
    const c2d = canvas.getContext("2d");
    offscreen[size] = { canvas, c2d, img: c2d.createImageData(size, size) };
  }
  const { canvas, c2d, img } = offscreen[size], px = img.data;
  for (let i = 0; i < size * size; i++) {
    const [r, g, b] = cell(i);
    px[4 * i] = r; px[4 * i + 1] = g; px[4 * i + 2] = b; px[4 * i + 3] = 255;
  }
  c2d.putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(canvas, x0, y0, w, h);
}

function draw() {
  if (dirty && last) {
    dirty = false;
    frames++;
    const hm = $("heatmap").getContext("2d");
    const W = $("heatmap").width, dom = last.heatmap.domain, heat = last.heatmap;
    const cell = heat.probs ? (i) => mix(heat.probs[i]) : (i) => colour(heat.values[i] / 100);
    drawCells(hm, heat.size, cell, 0, 0, W, W);
    const px = (x) => ((x + dom) / (2 * dom)) * W;
    const sets = $("show_test").checked ? [["train", "white"], ["test", "black"]] : [["train", "white"]];
    for (const [name, stroke] of sets) {
      for (const [x, y, label] of points[name]) {
        const [r, g, b] = pointColour(label);
        hm.beginPath(); hm.arc(px(x), W - px(y), 3, 0, 2 * Math.PI);
        hm.fillStyle = `rgb(${r},${g},${b})`; hm.fill(); hm.strokeStyle = stroke; hm.stroke();
      }
    }
    drawNetwork();
    drawCurves();
  }
  if (!ended) requestAnimationFrame(draw);  // an ended session's page stops its drawing loop
}

function drawNetwork() {
  const cv = $("network"), ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  const layers = last.neurons.layers, size = last.neurons.size;
  const most = Math.max(...layers.map((l) => l.length));
  const box = Math.max(12, Math.min(34, Math.floor((cv.height - 10) / most) - 4));
  const dx = (cv.width - box) / Math.max(layers.length - 1, 1);
  const pos = layers.map((l, i) => l.map((_, j) => {
    const gap = (cv.height - box) / Math.max(l.length, 1);
    return [i * dx, gap * j + (gap - box) / 2 + box / 2];
  }));
  const wmax = Math.max(1e-6, ...last.weights.flat(2).map(Math.abs));
  linkPos = [];
  last.weights.forEach((W, i) => {
    W.forEach((row, a) => row.forEach((w, b) => {
      const [x0, y0] = pos[i][a], [x1, y1] = pos[i + 1][b];
      const [r, g, bl] = colour(w / wmax);
      const hot = hovered && hovered[0] === i && hovered[1] === a && hovered[2] === b;
      ctx.strokeStyle = hot ? "#000" : `rgb(${r},${g},${bl})`;
      ctx.lineWidth = (hot ? 2 : 0) + 0.5 + 4 * Math.abs(w) / wmax;
      ctx.beginPath(); ctx.moveTo(x0 + box, y0 + box / 2); ctx.lineTo(x1, y1 + box / 2); ctx.stroke();
      linkPos.push([x0 + box, y0 + box / 2, x1, y1 + box / 2, i, a, b]);
    }));
  });
  layers.forEach((l, i) => l.forEach((vals, j) => {
    const [x, y] = pos[i][j];
    drawCells(ctx, size, (k) => colour(vals[k] / 100), x, y, box, box);
    ctx.strokeStyle = "#555"; ctx.lineWidth = 1; ctx.strokeRect(x, y, box, box);
  }));
}

function drawCurves() {
  const cv = $("curves"), ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  const h = history.filter((e) => e[1] !== null && e[2] !== null);
  if (h.length < 2) return;
  const maxL = Math.max(...h.flatMap((e) => [e[1], e[2]]), 1e-6), n = h.length;
  for (const [k, col] of [[1, "#333"], [2, "#999"]]) {
    ctx.strokeStyle = col; ctx.beginPath();
    h.forEach((e, i) => {
      const x = (i / (n - 1)) * cv.width, y = cv.height - (e[k] / maxL) * (cv.height - 4);
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
  }
}

// --- the maths on hover --------------------------------------------------------------------------
function nearestLink(x, y) {
  let best = null, bestD = 5;
  for (const [x0, y0, x1, y1, i, a, b] of linkPos) {
    const dx = x1 - x0, dy = y1 - y0, t = Math.max(0, Math.min(1, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy)));
    const d = Math.hypot(x - x0 - t * dx, y - y0 - t * dy);
    if (d < bestD) { bestD = d; best = [i, a, b]; }
  }
  return best;
}

function select(link, x, y) {  // show the formula of one weight, by mouse or keyboard
  if (!hovered || link.join() !== hovered.join()) {
    hovered = link;
    dirty = true;
    send({ action: "inspect", layer: link[0], source: link[1], target: link[2] });
  }
  const tip = $("inspect");
  tip.style.left = `${x + 12}px`; tip.style.top = `${y + 12}px`;
}

function onHover(ev) {
  const cv = $("network"), r = cv.getBoundingClientRect();
  const link = nearestLink((ev.clientX - r.left) * cv.width / r.width, (ev.clientY - r.top) * cv.height / r.height);
  if (link) select(link, ev.clientX - r.left, ev.clientY - r.top);
}

function selectByKey(index) {  // the keyboard's way to a weight: the index-th drawn link
  if (!linkPos.length) return;
  const k = (index + linkPos.length) % linkPos.length;
  const [x0, y0, x1, y1, i, a, b] = linkPos[k];
  const cv = $("network"), r = cv.getBoundingClientRect();
  select([i, a, b], ((x0 + x1) / 2) * r.width / cv.width, ((y0 + y1) / 2) * r.height / cv.height);
}

function hoveredIndex() {  // where the shown weight is among the drawn links (−1: none)
  return hovered ? linkPos.findIndex((l) => l[4] === hovered[0] && l[5] === hovered[1] && l[6] === hovered[2]) : -1;
}

function layerStart(layer) {  // index of the first drawn link of a layer of weights (wrapping around)
  const layers = linkPos.length ? linkPos[linkPos.length - 1][4] + 1 : 1;
  const l = (layer + layers) % layers;
  return linkPos.findIndex((link) => link[4] === l);
}

function onKey(ev) {  // arrows step through the weights, PageUp/PageDown change layer, Home/End jump, Escape hides
  const at = hoveredIndex(), layer = at >= 0 ? linkPos[at][4] : 0;
  const moves = { ArrowRight: at + 1, ArrowDown: at + 1, ArrowLeft: at - 1, ArrowUp: at - 1, Home: 0, End: -1,
                  PageDown: layerStart(layer + 1), PageUp: layerStart(layer - 1) };
  if (ev.key in moves) { ev.preventDefault(); selectByKey(moves[ev.key]); }
  else if (ev.key === "Escape") unselect();
}

function unselect() { $("inspect").hidden = true; hovered = null; dirty = true; }

function showInspect(m) {
  if (!hovered) return;  // the pointer or the focus left before the answer came
  const tip = $("inspect");
  tip.innerHTML = "";
  const head = document.createElement("div");
  head.textContent = `layer ${m.layer + 1}, ${m.source + 1} → ${m.target + 1} (epoch ${m.epoch}):  w = ${m.weight.toPrecision(4)},  g = ∂L/∂w = ${m.grad.toPrecision(4)}`;
  tip.append(head);
  for (const line of m.lines) { const d = document.createElement("div"); d.textContent = line; tip.append(d); }
  tip.hidden = false;
}

async function drawPaths() {
  const lr = Number($("path_lr").value);
  const res = await fetch(`/api/paths?optimizer=${config.optimizer}&lr=${lr}&steps=40`);
  const body = await res.json();
  if (!res.ok) { status(body.error); return; }
  const cv = $("paths"), ctx = cv.getContext("2d"), W = cv.width;
  const f = (a, b) => a * a - 10 * a + 2 * b * b - 20 * b + 75;
  const lo = -2, hi = 12, toPx = (v) => ((v - lo) / (hi - lo)) * W;
  const img = ctx.createImageData(W, W);
  for (let i = 0; i < W; i++) for (let j = 0; j < W; j++) {
    const a = lo + (j / W) * (hi - lo), b = hi - (i / W) * (hi - lo);
    const level = Math.log(1 + f(a, b)) % 0.5 < 0.05 ? 170 : 245;
    img.data.set([level, level, 255, 255], 4 * (i * W + j));
  }
  ctx.putImageData(img, 0, 0);
  ctx.strokeStyle = "#c00"; ctx.lineWidth = 1.5; ctx.beginPath();
  body.path.forEach(([a, b], i) => {
    const x = toPx(Math.max(lo, Math.min(hi, a))), y = W - toPx(Math.max(lo, Math.min(hi, b)));
    i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
  });
  ctx.stroke();
  ctx.fillStyle = "black"; ctx.fillText("★ (5, 5)", toPx(5) - 4, W - toPx(5) + 4);
}

// --- wiring --------------------------------------------------------------------------------------
function wire() {
  for (const a of schema.activation_menu) $("activation").add(new Option(a, a));
  $("activation").onchange = () => {  // one choice for every hidden layer; the per-layer menus stay
    config.activations = config.layers.map(() => canonical($("activation").value));
    changed();
  };
  $("add_layer").onclick = () => {
    if (config.layers.length < schema.limits.layers) {
      config.layers.push(2);
      config.activations.push(config.activations[config.activations.length - 1] || fields.activations.default[0]);
      changed();
    }
  };
  $("remove_layer").onclick = () => {
    if (config.layers.length > 0) { config.layers.pop(); config.activations.pop(); changed(); }
  };
  for (const action of ["play", "pause", "step", "reset"]) $(action).onclick = () => act(action);
  $("regenerate").onclick = () => { config.seed = (config.seed + 1) % 100000; changed(); };
  $("show_test").onchange = () => { dirty = true; };
  $("path_lr").onchange = drawPaths;
  $("csv").onchange = () => { if ($("csv").files.length) upload($("csv").files[0]); };
  $("network").addEventListener("mousemove", onHover);
  $("network").addEventListener("mouseleave", () => { if (document.activeElement !== $("network")) unselect(); });
  $("network").addEventListener("focus", () => selectByKey(Math.max(0, hoveredIndex())));
  $("network").addEventListener("keydown", onKey);
  $("network").addEventListener("blur", unselect);
  window.addEventListener("beforeunload", () => { if (socket) socket.close(); });
}

async function main() {
  schema = await (await fetch("/api/schema")).json();
  for (const f of schema.fields) fields[f.name] = f;
  config = readUrl();
  buildControls();
  wire();
  showControls();
  await startSession();
  if (urlNote) status([$("status").textContent, urlNote].filter(Boolean).join(" — "));
  drawPaths();
  requestAnimationFrame(draw);
}

window.playground = { frames: () => frames, last: () => last, links: () => linkPos, shown: () => hoveredIndex() };
main();
