// nablagrad playground: the page only draws; training happens in the server with nablagrad.
"use strict";

const DEFAULTS = {
  dataset: "circle", noise: 0, train_ratio: 50, points: 500, seed: 0, features: ["x1", "x2"], layers: [4, 2],
  activation: "tanh", problem: "classification", lr: 0.03, batch_size: 10, regularization: "none", reg_rate: 0,
  optimizer: "sgd", schedule: "none",
};
const SELECTS = ["dataset", "activation", "optimizer", "schedule", "regularization", "problem", "lr", "reg_rate"];
const RANGES = ["noise", "train_ratio", "batch_size"];
const $ = (id) => document.getElementById(id);

let config = readUrl();
let session = null;
let socket = null;
let points = { train: [], test: [] };
let history = [];
let last = null;

function readUrl() {
  const q = new URLSearchParams(location.search);
  const cfg = JSON.parse(JSON.stringify(DEFAULTS));
  for (const [k, v] of q.entries()) {
    if (!(k in DEFAULTS)) continue;
    if (k === "features") cfg.features = v ? v.split(",") : [];
    else if (k === "layers") cfg.layers = v ? v.split(",").map(Number) : [];
    else if (typeof DEFAULTS[k] === "number") cfg[k] = Number(v);
    else cfg[k] = v;
  }
  return cfg;
}

function writeUrl() {
  const q = new URLSearchParams();
  for (const k of Object.keys(DEFAULTS)) {
    const v = config[k];
    q.set(k, Array.isArray(v) ? v.join(",") : String(v));
  }
  history_replace("?" + q.toString());
}

function history_replace(search) {
  window.history.replaceState(null, "", location.pathname + search);
}

function showControls() {
  for (const k of SELECTS) {
    const el = $(k);
    const v = String(config[k]);
    if (![...el.options].some((o) => (o.value || o.text) === v)) el.add(new Option(v, v));
    el.value = v;
  }
  for (const k of RANGES) { $(k).value = config[k]; $(k + "_out").textContent = config[k]; }
  for (const box of $("features").querySelectorAll("input")) box.checked = config.features.includes(box.value);
  showLayers();
}

function showLayers() {
  $("layer_count").textContent = config.layers.length;
  const wrap = $("layer_buttons");
  wrap.innerHTML = "";
  config.layers.forEach((n, i) => {
    const d = document.createElement("div");
    d.innerHTML = `<span>${n} neurons</span>`;
    const plus = document.createElement("button");
    plus.textContent = "+"; plus.setAttribute("aria-label", `Add a neuron to layer ${i + 1}`);
    plus.dataset.testid = `add-neuron-${i + 1}`;
    plus.onclick = () => { if (config.layers[i] < 8) { config.layers[i]++; changed(); } };
    const minus = document.createElement("button");
    minus.textContent = "−"; minus.setAttribute("aria-label", `Remove a neuron from layer ${i + 1}`);
    minus.dataset.testid = `remove-neuron-${i + 1}`;
    minus.onclick = () => { if (config.layers[i] > 1) { config.layers[i]--; changed(); } };
    d.append(plus, minus);
    wrap.append(d);
  });
}

function status(msg) { $("status").textContent = msg || ""; }

// --- talking to the server ---------------------------------------------------------------------
async function startSession() {
  if (socket) { socket.onclose = null; socket.close(); }
  const res = await fetch("/api/sessions", {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(config),
  });
  const body = await res.json();
  if (!res.ok) { status(body.error); return; }
  status("");
  config = body.config;
  session = body.id;
  showControls();
  writeUrl();
  $("export_model").href = `/api/sessions/${session}/model.safetensors`;
  $("export_script").href = `/api/sessions/${session}/script.py`;
  const proto = location.protocol === "https:" ? "wss" : "ws";
  socket = new WebSocket(`${proto}://${location.host}/ws/${session}`);
  socket.onmessage = (ev) => receive(JSON.parse(ev.data));
  socket.onclose = () => status("connection closed — reload the page to continue");
}

function send(msg) { if (socket && socket.readyState === 1) socket.send(JSON.stringify(msg)); }

function receive(msg) {
  if (msg.type === "error") { status(msg.message); return; }
  if (msg.points) { points = msg.points; history = (msg.history || []).slice(); }
  if (msg.epoch > 0 && (!history.length || history[history.length - 1][0] !== msg.epoch)) {
    history.push([msg.epoch, msg.train_loss, msg.test_loss]);
  }
  if (msg.epoch === 0) history = [];
  last = msg;
  $("epoch").textContent = String(msg.epoch).padStart(6, "0");
  $("train_loss").textContent = msg.train_loss.toFixed(3);
  $("test_loss").textContent = msg.test_loss.toFixed(3);
  draw();
}

let pending = null;
function changed() {
  writeUrl();
  showLayers();
  clearTimeout(pending);
  // structural changes are validated by the server and restart the run
  pending = setTimeout(() => send({ action: "config", config }), 50);
}

// --- drawing -----------------------------------------------------------------------------------
function colour(v) {  // −1 → orange, 0 → white, +1 → blue (as the TensorFlow Playground)
  const t = Math.max(-1, Math.min(1, v));
  const a = [245, 147, 34], b = [8, 119, 189];
  const c = t < 0 ? a : b, s = Math.abs(t);
  return [255 + (c[0] - 255) * s, 255 + (c[1] - 255) * s, 255 + (c[2] - 255) * s];
}

function drawMap(ctx, values, size, x0, y0, w, h, scale) {
  const img = ctx.createImageData(size, size);
  for (let i = 0; i < size * size; i++) {
    const [r, g, b] = colour(values[i] * (scale || 1));
    img.data.set([r, g, b, 255], 4 * i);
  }
  const off = document.createElement("canvas");
  off.width = size; off.height = size;
  off.getContext("2d").putImageData(img, 0, 0);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(off, x0, y0, w, h);
}

function draw() {
  if (!last) return;
  const hm = $("heatmap").getContext("2d");
  const W = $("heatmap").width, dom = last.heatmap.domain;
  drawMap(hm, last.heatmap.values, last.heatmap.size, 0, 0, W, W, last.classification ? 1 : 1);
  const px = (x) => ((x + dom) / (2 * dom)) * W;
  const sets = $("show_test").checked ? [["train", "white"], ["test", "black"]] : [["train", "white"]];
  for (const [name, stroke] of sets) {
    for (const [x, y, label] of points[name]) {
      const [r, g, b] = colour(last.classification ? label : Math.tanh(label));
      hm.beginPath(); hm.arc(px(x), W - px(y), 3, 0, 2 * Math.PI);
      hm.fillStyle = `rgb(${r},${g},${b})`; hm.fill(); hm.strokeStyle = stroke; hm.stroke();
    }
  }
  drawNetwork();
  drawCurves();
}

function drawNetwork() {
  const cv = $("network"), ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  const layers = last.neurons.layers, size = last.neurons.size, box = 34;
  const cols = layers.length, dx = (cv.width - box) / Math.max(cols - 1, 1);
  const pos = layers.map((l, i) => l.map((_, j) => [i * dx, 10 + j * ((cv.height - box - 20) / Math.max(l.length - 1, 1)) * (l.length > 1 ? 1 : 0) + (l.length > 1 ? 0 : (cv.height - box) / 2)]));
  const wmax = Math.max(1e-6, ...last.weights.flat(2).map(Math.abs));
  last.weights.forEach((W, i) => {
    W.forEach((row, a) => row.forEach((w, b) => {
      const [x0, y0] = pos[i][a], [x1, y1] = pos[i + 1][b];
      const [r, g, bl] = colour(w / wmax);
      ctx.strokeStyle = `rgb(${r},${g},${bl})`;
      ctx.lineWidth = 0.5 + 4 * Math.abs(w) / wmax;
      ctx.beginPath(); ctx.moveTo(x0 + box, y0 + box / 2); ctx.lineTo(x1, y1 + box / 2); ctx.stroke();
    }));
  });
  layers.forEach((l, i) => l.forEach((vals, j) => {
    const m = Math.max(1e-6, ...vals.map(Math.abs));
    const [x, y] = pos[i][j];
    drawMap(ctx, vals.map((v) => v / m), size, x, y, box, box);
    ctx.strokeStyle = "#555"; ctx.lineWidth = 1; ctx.strokeRect(x, y, box, box);
  }));
}

function drawCurves() {
  const cv = $("curves"), ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  if (history.length < 2) return;
  const maxL = Math.max(...history.flatMap((h) => [h[1], h[2]]), 1e-6);
  const n = history.length;
  for (const [k, col] of [[1, "#333"], [2, "#999"]]) {
    ctx.strokeStyle = col; ctx.beginPath();
    history.forEach((h, i) => {
      const x = (i / (n - 1)) * cv.width, y = cv.height - (h[k] / maxL) * (cv.height - 4);
      i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
    });
    ctx.stroke();
  }
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
  for (const k of SELECTS) $(k).addEventListener("change", () => {
    const v = $(k).value;
    config[k] = ["lr", "reg_rate"].includes(k) ? Number(v) : v;
    if (k === "dataset") config.problem = v.startsWith("reg-") ? "regression" : "classification";
    if (k === "optimizer") drawPaths();
    showControls();
    changed();
  });
  for (const k of RANGES) $(k).addEventListener("input", () => {
    config[k] = Number($(k).value); $(k + "_out").textContent = $(k).value; changed();
  });
  $("features").addEventListener("change", () => {
    config.features = [...$("features").querySelectorAll("input:checked")].map((b) => b.value);
    changed();
  });
  $("add_layer").onclick = () => { if (config.layers.length < 6) { config.layers.push(2); changed(); } };
  $("remove_layer").onclick = () => { if (config.layers.length > 0) { config.layers.pop(); changed(); } };
  $("play").onclick = () => send({ action: "play" });
  $("pause").onclick = () => send({ action: "pause" });
  $("step").onclick = () => send({ action: "step" });
  $("reset").onclick = () => send({ action: "reset" });
  $("regenerate").onclick = () => { config.seed = (config.seed + 1) % 100000; changed(); };
  $("show_test").onchange = draw;
  $("path_lr").onchange = drawPaths;
  window.addEventListener("beforeunload", () => { if (socket) socket.close(); });
}

wire();
showControls();
startSession();
drawPaths();
