// The control page: built from the show's OSCQuery tree, steering it with OSC packets over the
// websocket (the same commands as OSC over UDP) and following every change made elsewhere
// (LISTEN). Plain script, no libraries, so it works offline from the show's own server.
"use strict";

const UNITS = { "time.second": "s", "angle.degree": "°", "time.speed": "×", "gain.linear": "×" };
const SKIPPED = new Set(["/set", "/learn"]); // a parameter by name, and MIDI learning: not for a page
const controls = new Map(); // path -> {show(values), method}
const held = new Set(); // paths under a finger: values from elsewhere wait until it lets go
let socket = null;
let config = { key: false, readonly: false, xy: [] };
let key = localStorage.getItem("metamorph-key");

// OSC packets ------------------------------------------------------------------------------

function padded(text) {
  const bytes = new TextEncoder().encode(text);
  const out = new Uint8Array((bytes.length + 4) & ~3);
  out.set(bytes);
  return out;
}

function encode(address, tags, values) {
  const parts = [padded(address), padded("," + tags)];
  [...tags].forEach((tag, i) => {
    if (tag === "s") return parts.push(padded(values[i]));
    const view = new DataView(new ArrayBuffer(4));
    tag === "f" ? view.setFloat32(0, values[i]) : view.setInt32(0, Math.round(values[i]));
    parts.push(new Uint8Array(view.buffer));
  });
  const packet = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (packet.set(p, at), at + p.length), 0);
  return packet;
}

function decode(buffer) {
  const view = new DataView(buffer);
  let at = 0;
  const text = () => {
    let end = at;
    while (end < view.byteLength && view.getUint8(end) !== 0) end++;
    const value = new TextDecoder().decode(new Uint8Array(buffer, at, end - at));
    at = (end + 4) & ~3;
    return value;
  };
  const address = text();
  const values = [...text().slice(1)].map((tag) => {
    if (tag === "s") return text();
    if (tag === "T" || tag === "F") return tag === "T" ? 1 : 0;
    const value = tag === "f" ? view.getFloat32(at) : view.getInt32(at);
    at += 4;
    return value;
  });
  return { address, values };
}

function send(path, tags, values) {
  if (socket && socket.readyState === WebSocket.OPEN) socket.send(encode(path, tags, values));
}

// Controls ---------------------------------------------------------------------------------

function methods(node, found = []) {
  if (node.TYPE) found.push(node);
  Object.values(node.CONTENTS || {}).forEach((child) => methods(child, found));
  return found;
}

const writable = (method) => (method.ACCESS & 2) !== 0;
const limits = (method) => (method.RANGE && method.RANGE[0]) || {};
const label = (method) => method.FULL_PATH.slice(1).replace(/[/_]/g, " ");

function element(tag, props = {}, parent = null) {
  const made = Object.assign(document.createElement(tag), props);
  if (parent) parent.appendChild(made);
  return made;
}

function button(method, parent) {
  const toggle = (method.ACCESS & 1) !== 0;
  const made = element("button", { textContent: label(method), disabled: !writable(method) }, parent);
  made.dataset.path = method.FULL_PATH;
  made.addEventListener("click", () =>
    send(method.FULL_PATH, "i", [toggle ? Number(made.getAttribute("aria-pressed") !== "true") : 1]),
  );
  if (toggle) controls.set(method.FULL_PATH, { show: (v) => made.setAttribute("aria-pressed", String(v[0] === 1)) });
}

function fader(method, parent) {
  const { MIN: min, MAX: max } = limits(method);
  const unit = UNITS[(method.UNIT || [])[0]] || "";
  const box = element("div", { className: "fader", title: method.DESCRIPTION || "" }, parent);
  const caption = element("label", {}, box);
  element("span", { textContent: label(method) }, caption);
  const shown = element("output", {}, caption);
  const step = method.TYPE === "i" ? 1 : (max - min) / 1000;
  const input = element("input", { type: "range", min, max, step, disabled: !writable(method) }, box);
  input.dataset.path = method.FULL_PATH;
  const show = (values) => {
    const value = Number(values[0]);
    shown.value = (method.TYPE === "i" ? String(value + 1) : value.toFixed(Math.abs(max) > 20 ? 1 : 2)) + unit;
    if (!held.has(method.FULL_PATH)) input.value = value;
  };
  let pending = false;
  input.addEventListener("input", () => {
    show([input.value]);
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => ((pending = false), send(method.FULL_PATH, method.TYPE, [Number(input.value)])));
  });
  input.addEventListener("pointerdown", () => held.add(method.FULL_PATH));
  input.addEventListener("pointerup", () => held.delete(method.FULL_PATH));
  input.addEventListener("change", () => held.delete(method.FULL_PATH));
  controls.set(method.FULL_PATH, { show });
  if (method.VALUE) show(method.VALUE);
}

function choices(method, parent, section) {
  const names = limits(method).VALS || [];
  document.getElementById(section).hidden = names.length === 0;
  const made = names.map((name) => {
    const choice = element("button", { textContent: name, disabled: !writable(method) }, parent);
    choice.addEventListener("click", () => send(method.FULL_PATH, "s", [name]));
    return choice;
  });
  const show = (values) => made.forEach((b) => b.setAttribute("aria-pressed", String(b.textContent === values[0])));
  controls.set(method.FULL_PATH, { show });
  if (method.VALUE) show(method.VALUE);
}

function pad(xMethod, yMethod) {
  const area = document.getElementById("pad");
  const dot = document.getElementById("dot");
  document.getElementById("pad-section").hidden = false;
  document.getElementById("pad-title").textContent = `${label(xMethod)} × ${label(yMethod)}`;
  const [x, y] = [limits(xMethod), limits(yMethod)];
  const place = (fx, fy) => Object.assign(dot.style, { left: `${fx * 100}%`, top: `${(1 - fy) * 100}%` });
  const share = (value, range) => (value - range.MIN) / (range.MAX - range.MIN);
  let at = [share(xMethod.VALUE[0], x), share(yMethod.VALUE[0], y)];
  place(...at);
  const move = (event) => {
    if (!writable(xMethod)) return;
    const box = area.getBoundingClientRect();
    const fx = Math.min(Math.max((event.clientX - box.left) / box.width, 0), 1);
    const fy = Math.min(Math.max(1 - (event.clientY - box.top) / box.height, 0), 1);
    at = [fx, fy];
    place(fx, fy);
    send(xMethod.FULL_PATH, "f", [x.MIN + fx * (x.MAX - x.MIN)]);
    send(yMethod.FULL_PATH, "f", [y.MIN + fy * (y.MAX - y.MIN)]);
  };
  area.onpointerdown = (event) => (area.setPointerCapture(event.pointerId), move(event));
  area.onpointermove = (event) => event.buttons && move(event);
  return [
    (values) => ((at = [share(values[0], x), at[1]]), place(...at)),
    (values) => ((at = [at[0], share(values[0], y)]), place(...at)),
  ];
}

function build(tree) {
  ["buttons", "faders", "sequences", "presets"].forEach((id) => (document.getElementById(id).textContent = ""));
  controls.clear();
  const all = methods(tree).filter((m) => !SKIPPED.has(m.FULL_PATH));
  for (const method of all) {
    if (method.FULL_PATH.startsWith(VISITORS)) continue; // the visitors' section has its own
    const range = limits(method);
    if (method.TYPE === "i" && range.MAX === 1) button(method, document.getElementById("buttons"));
    else if (method.FULL_PATH === "/sequence") choices(method, document.getElementById("sequences"), "sequences-section");
    else if (method.FULL_PATH === "/preset") choices(method, document.getElementById("presets"), "presets-section");
    else if (range.MIN !== undefined && range.MAX !== undefined) fader(method, document.getElementById("faders"));
  }
  const pair = config.xy.map((path) => all.find((m) => m.FULL_PATH === path));
  if (pair.length === 2 && pair.every(Boolean)) {
    const follow = pad(...pair);
    pair.forEach((method, i) => {
      const shown = controls.get(method.FULL_PATH).show;
      controls.set(method.FULL_PATH, { show: (v) => (shown(v), follow[i](v)) });
    });
  }
  return all.filter((m) => (m.ACCESS & 1) !== 0).map((m) => m.FULL_PATH);
}

// Visitors: their wishes, waiting for a tap when the operator approves them -----------------

const VISITORS = "/visitors/";

function wishItem(wish, list) {
  const item = element("li", {}, list);
  element("span", { textContent: `${wish.prompt}${wish.photo ? " (with a photo)" : ""} · ${wish.state}` }, item);
  if (wish.state === "making") return;
  const row = element("div", { className: "row" }, item);
  if (wish.state === "approval") {
    const accept = element("button", { textContent: "make it" }, row);
    accept.addEventListener("click", () => send(`${VISITORS}accept`, "i", [wish.number]));
  }
  const refuse = element("button", { textContent: "refuse" }, row);
  refuse.addEventListener("click", () => send(`${VISITORS}refuse`, "i", [wish.number]));
}

function showVisitors(desk) {
  document.getElementById("visitors-url").textContent =
    `The visitor page: ${desk.url}${desk.paused ? " (paused)" : ""}${desk.approve ? ", wishes wait for a tap" : ""}`;
  const list = document.getElementById("wishes");
  list.textContent = "";
  desk.wishes.forEach((wish) => wishItem(wish, list));
  const made = document.getElementById("made");
  made.textContent = "";
  for (const name of desk.made) {
    const remove = element("button", { textContent: `delete ${name}` }, made);
    remove.addEventListener("click", () => send(`${VISITORS}delete`, "s", [name]));
  }
  const buttons = document.getElementById("visitors-buttons");
  buttons.textContent = "";
  for (const [name, words] of [["paused", "pause visitors"], ["approve", "approve each wish"]]) {
    const toggle = element("button", { textContent: words }, buttons);
    toggle.setAttribute("aria-pressed", String(desk[name]));
    toggle.addEventListener("click", () => send(`${VISITORS}${name.replace("paused", "pause")}`, "i", [Number(!desk[name])]));
  }
  const clear = element("button", { textContent: "clear the queue" }, buttons);
  clear.addEventListener("click", () => send(`${VISITORS}clear`, "i", [1]));
}

async function followVisitors() {
  try {
    const answer = await fetch("/control/visitors.json");
    if (answer.ok) showVisitors(await answer.json());
  } finally {
    setTimeout(followVisitors, 2000);
  }
}

// Connection -------------------------------------------------------------------------------

function status(text) {
  document.getElementById("status").textContent = text;
}

function refreshKeyframe() {
  document.getElementById("keyframe").src = `/control/keyframe.jpg?${Date.now()}`;
}

async function load() {
  config = await (await fetch("/control/config.json")).json();
  const tree = await (await fetch("/")).json();
  return build(tree);
}

function connect(paths) {
  if (config.key && !config.readonly && !key) {
    key = prompt("This show asks for its control key:") || "";
    localStorage.setItem("metamorph-key", key);
  }
  const query = config.key && key ? `?key=${encodeURIComponent(key)}` : "";
  socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/${query}`);
  socket.binaryType = "arraybuffer";
  let opened = false;
  socket.onopen = () => {
    opened = true;
    paths.forEach((path) => socket.send(JSON.stringify({ COMMAND: "LISTEN", DATA: path })));
    status(config.readonly ? "connected, read-only" : "connected");
  };
  socket.onmessage = async (event) => {
    if (typeof event.data === "string") {
      const note = JSON.parse(event.data);
      if (note.COMMAND === "PATH_ADDED") paths = await load();
      return;
    }
    const { address, values } = decode(event.data);
    const control = controls.get(address);
    if (control) control.show(values);
    if (address === "/goto" || address === "/sequence") refreshKeyframe();
  };
  socket.onclose = () => {
    if (!opened && config.key && key !== null) {
      key = null; // refused: the key was wrong, ask again
      localStorage.removeItem("metamorph-key");
    }
    status("disconnected, trying again…");
    setTimeout(() => connect(paths), 1000);
  };
}

load()
  .then((paths) => {
    if (config.visitors) {
      document.getElementById("visitors-section").hidden = false;
      followVisitors();
    }
    return connect(paths);
  })
  .catch((error) => status(`cannot reach the show (${error})`));
