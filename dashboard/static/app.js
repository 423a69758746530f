// kubelite dashboard: draws what the server relays from the API's watches (one EventSource for
// every kind), a followed log, and charts of metrics.k8s.io. No build step, no framework.
"use strict";

const $ = (id) => document.getElementById(id);
const NAMESPACED = new Set(["pods", "events", "services", "deployments", "replicasets", "statefulsets",
  "daemonsets", "replicationcontrollers", "jobs", "cronjobs"]);
const WORKLOADS = ["deployments", "replicasets", "statefulsets", "daemonsets", "replicationcontrollers",
  "jobs", "cronjobs", "services"];
const MAX_EVENTS = 100, MAX_LOG_LINES = 2000, MAX_SAMPLES = 60, USAGE_PERIOD_MS = 15000;

const kinds = {};          // kind -> {columns, rows: Map(key -> row), denied, problem}
let stream = null, logStream = null, namespace = "", renderPending = false, usageTimer = null;
const usageHistory = {};   // node -> [{cpu, memory}]

function kindState(kind) {
  return kinds[kind] || (kinds[kind] = {columns: [], rows: new Map(), denied: null, problem: null});
}

function esc(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;",
    '"': "&quot;", "'": "&#39;"}[c]));
}

function age(timestamp) {  // kubectl's short durations: 45s, 5m3s, 3h20m, 12d
  if (!timestamp) return "<unknown>";
  const s = Math.max(0, Math.floor((Date.now() - Date.parse(timestamp)) / 1000));
  if (s < 120) return s + "s";
  const m = Math.floor(s / 60), h = Math.floor(m / 60), d = Math.floor(h / 24);
  if (m < 10) return m + "m" + (s % 60 ? (s % 60) + "s" : "");
  if (h < 3) return m + "m";
  if (h < 8) return h + "h" + (m % 60 ? (m % 60) + "m" : "");
  if (d < 2) return h + "h";
  if (d < 8) return d + "d" + (h % 24 ? (h % 24) + "h" : "");
  return d + "d";
}

// --- the live view ------------------------------------------------------------------------------

function connect() {
  if (stream) stream.close();
  for (const k of Object.keys(kinds)) delete kinds[k];
  const url = "api/stream" + (namespace ? "?namespace=" + encodeURIComponent(namespace) : "");
  stream = new EventSource(url);
  setLive("connecting", "");
  stream.addEventListener("open", () => setLive("live", "live"));
  stream.addEventListener("columns", (e) => { const d = JSON.parse(e.data); kindState(d.kind).columns = d.columns; });
  stream.addEventListener("reset", (e) => { const s = kindState(JSON.parse(e.data).kind); s.rows.clear(); s.problem = null; schedule(); });
  stream.addEventListener("row", (e) => onRow(JSON.parse(e.data)));
  stream.addEventListener("denied", (e) => { const d = JSON.parse(e.data); kindState(d.kind).denied = d; schedule(); });
  stream.addEventListener("problem", (e) => { const d = JSON.parse(e.data); kindState(d.kind).problem = d.message; schedule(); });
  stream.addEventListener("error", () => {
    if (stream.readyState === EventSource.CLOSED) refused(url, (msg) => setLive(msg, "down"));
    else setLive("reconnecting", "down");  // the browser reconnects; the server sends every kind again
  });
}

function onRow(row) {
  const s = kindState(row.kind);
  if (row.type === "DELETED") s.rows.delete(row.key);
  else {
    s.rows.delete(row.key);  // re-inserted: the map keeps the newest last (events are shown that way)
    s.rows.set(row.key, row);
    if (row.kind === "events" && s.rows.size > MAX_EVENTS) s.rows.delete(s.rows.keys().next().value);
  }
  schedule();
}

function refused(url, show) {  // an EventSource hides the status of a refusal: ask once more for it
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(), 5000);
  fetch(url, {signal: ctl.signal}).then(async (r) => {
    if (r.status === 401) return showLogin("the API refused the token (401)");
    const body = await r.json().catch(() => ({}));
    show(`${r.status} ${body.reason || ""}: ${body.message || r.statusText}`);
  }).catch(() => show("the dashboard cannot be reached"));
}

function setLive(text, cls) { const el = $("live"); el.textContent = text; el.className = "live " + cls; }

function schedule() {
  if (!renderPending) { renderPending = true; setTimeout(render, 50); }
}

function render() {
  renderPending = false;
  for (const [kind, s] of Object.entries(kinds)) {
    const box = document.querySelector(`[data-kind="${kind}"]`);
    if (box) renderKind(box, kind, s);
  }
  const names = [...kindState("namespaces").rows.values()].map((r) => `<option value="${esc(r.name)}">`);
  $("namespaces").innerHTML = names.join("");
}

function renderKind(box, kind, s) {
  let table = box.querySelector("table.rows");
  let note = box.querySelector("p.note");
  if (!note) { note = document.createElement("p"); note.className = "note"; box.append(note); }
  if (!table) { table = document.createElement("table"); table.className = "rows"; box.append(table); }
  note.textContent = s.denied ? `${s.denied.code}: ${s.denied.message}` : (s.problem ? "retrying: " + s.problem : "");
  note.classList.toggle("error", !!(s.denied || s.problem));
  const withNs = NAMESPACED.has(kind) && !namespace;
  const cols = (withNs ? ["Namespace"] : []).concat(s.columns);
  const ageAt = s.columns.indexOf("Age");
  let rows = [...s.rows.values()];
  if (kind === "events") rows.reverse();
  else rows.sort((a, b) => a.key.localeCompare(b.key));
  const body = rows.map((r) => {
    const cells = r.cells.map((c, i) => (i === ageAt ? age(r.created) : c));
    const tds = (withNs ? [r.namespace] : []).concat(cells)
      .map((c, i) => `<td data-col="${esc(cols[i])}">${esc(c)}</td>`).join("");
    return `<tr data-key="${esc(r.key)}">${tds}</tr>`;
  });
  table.innerHTML = `<thead><tr>${cols.map((c) => `<th>${esc(c)}</th>`).join("")}</tr></thead>` +
    `<tbody>${body.join("") || `<tr><td colspan="${cols.length}" class="empty">none</td></tr>`}</tbody>`;
  if (kind === "pods") {
    for (const tr of table.querySelectorAll("tbody tr[data-key]")) {
      tr.addEventListener("click", () => openLogs(s.rows.get(tr.dataset.key)));
    }
  }
}

// --- logs ---------------------------------------------------------------------------------------

function openLogs(row) {
  if (!row) return;
  $("logs").hidden = false;
  $("logs-of").textContent = `${row.namespace}/${row.name}`;
  const pick = $("logs-container");
  pick.innerHTML = (row.containers || []).map((c) => `<option>${esc(c)}</option>`).join("");
  pick.onchange = () => followLog(row, pick.value);
  followLog(row, pick.value);
}

function followLog(row, container) {
  if (logStream) logStream.close();
  const out = $("logs-text");
  out.textContent = "";
  const url = `api/logs/${encodeURIComponent(row.namespace)}/${encodeURIComponent(row.name)}` +
    (container ? "?container=" + encodeURIComponent(container) : "");
  const es = logStream = new EventSource(url);
  const append = (text) => {
    out.append(text + "\n");
    while (out.childNodes.length > MAX_LOG_LINES) out.firstChild.remove();
    out.scrollTop = out.scrollHeight;
  };
  es.addEventListener("line", (e) => append(JSON.parse(e.data)));
  es.addEventListener("problem", (e) => append("[" + JSON.parse(e.data).message + "]"));
  es.addEventListener("end", () => { es.close(); append("[the log ended]"); });
  es.addEventListener("error", () => { if (es.readyState === EventSource.CLOSED) refused(url, (m) => append("[" + m + "]")); });
}

// --- charts -------------------------------------------------------------------------------------

async function readUsage() {
  const url = "api/usage" + (namespace ? "?namespace=" + encodeURIComponent(namespace) : "");
  try {
    const r = await fetch(url);
    const u = await r.json();
    if (!r.ok) { $("usage-note").textContent = `${r.status}: ${u.message || ""}`; return; }
    for (const n of u.nodes || []) {
      const h = usageHistory[n.name] || (usageHistory[n.name] = []);
      h.push({cpu: n.cpu, memory: n.memory});
      if (h.length > MAX_SAMPLES) h.shift();
    }
    lines($("chart-cpu"), "cpu");
    lines($("chart-memory"), "memory");
    bars($("chart-pods"), u.pods || []);
    const notes = [u.nodesError, u.podsError].filter(Boolean).map((e) => `${e.code}: ${e.message}`);
    $("usage-note").textContent = notes.join("; ");
  } catch (e) {
    $("usage-note").textContent = "metrics unavailable: " + e;
  }
}

const PALETTE = ["#2a7ab0", "#c0392b", "#27ae60", "#8e44ad", "#d35400", "#16a085", "#7f8c8d"];

function lines(svg, field) {
  const W = 400, H = 150, L = 40, B = 15;
  const series = Object.entries(usageHistory);
  const top = Math.max(1, ...series.flatMap(([, h]) => h.map((p) => p[field]))) * 1.1;
  const x = (i) => L + (i * (W - L - 5)) / Math.max(1, MAX_SAMPLES - 1);
  const y = (v) => H - B - (v / top) * (H - B - 5);
  let out = `<line x1="${L}" y1="${H - B}" x2="${W}" y2="${H - B}" class="axis"/>` +
    `<text x="${L - 4}" y="12" class="tick">${Math.round(top)}</text><text x="${L - 4}" y="${H - B}" class="tick">0</text>`;
  series.forEach(([name, h], i) => {
    const color = PALETTE[i % PALETTE.length], last = h[h.length - 1];
    const pts = h.map((p, j) => `${x(j).toFixed(1)},${y(p[field]).toFixed(1)}`).join(" ");
    out += `<polyline points="${pts}" fill="none" stroke="${color}" stroke-width="2"/>` +
      `<circle cx="${x(h.length - 1).toFixed(1)}" cy="${y(last[field]).toFixed(1)}" r="3" fill="${color}"/>` +
      `<text x="${L + 4}" y="${12 + 12 * i}" fill="${color}" class="legend">${esc(name)}: ${last[field]}</text>`;
  });
  svg.innerHTML = out;
}

function bars(svg, pods) {
  const W = 400, L = 150, row = 14;
  const top = Math.max(1, ...pods.map((p) => p.cpu));
  svg.innerHTML = pods.map((p, i) => {
    const w = ((W - L - 50) * p.cpu) / top;
    return `<text x="${L - 4}" y="${12 + i * row}" class="tick">${esc(p.name.slice(0, 22))}</text>` +
      `<rect x="${L}" y="${3 + i * row}" width="${w.toFixed(1)}" height="${row - 4}" fill="${PALETTE[0]}"/>` +
      `<text x="${L + w + 4}" y="${12 + i * row}" class="legend">${p.cpu}</text>`;
  }).join("") || `<text x="10" y="20" class="legend">no pod metrics yet</text>`;
}

// --- login --------------------------------------------------------------------------------------

function showLogin(message) {
  if (stream) stream.close();
  if (logStream) logStream.close();
  clearInterval(usageTimer);
  $("board").hidden = true;
  $("logout").hidden = $("ns-pick").hidden = true;
  $("login").hidden = false;
  $("login-error").textContent = message || "";
  $("user").textContent = "";
  setLive("signed out", "down");
}

function start(who) {
  $("login").hidden = true;
  $("board").hidden = false;
  $("logout").hidden = $("ns-pick").hidden = false;
  $("user").textContent = who.username;
  connect();
  readUsage();
  clearInterval(usageTimer);
  usageTimer = setInterval(readUsage, USAGE_PERIOD_MS);
}

async function boot() {
  WORKLOADS.forEach((kind, i) => {
    const b = document.createElement("button");
    b.textContent = kind;
    b.className = i === 0 ? "on" : "";
    b.onclick = () => {
      for (const k of WORKLOADS) document.querySelector(`#workloads [data-kind="${k}"]`).hidden = k !== kind;
      for (const other of $("workload-tabs").children) other.className = other === b ? "on" : "";
    };
    $("workload-tabs").append(b);
  });
  $("login").addEventListener("submit", async (e) => {
    e.preventDefault();
    const r = await fetch("api/login", {method: "POST", headers: {"content-type": "application/json"},
      body: JSON.stringify({token: $("token").value})});
    const body = await r.json().catch(() => ({}));
    if (r.ok) { $("token").value = ""; start(body); } else $("login-error").textContent = `${r.status}: ${body.message || ""}`;
  });
  $("logout").addEventListener("click", async () => { await fetch("api/logout", {method: "POST"}); showLogin(""); });
  $("logs-close").addEventListener("click", () => { if (logStream) logStream.close(); $("logs").hidden = true; });
  $("namespace").addEventListener("change", () => { namespace = $("namespace").value.trim(); connect(); readUsage(); });
  setInterval(schedule, 5000);  // ages move on: redraw from what is held (no request)
  const r = await fetch("api/whoami");
  if (r.ok) start(await r.json()); else showLogin("");
}

boot();
