// breathring: the phone page. Live state from /api/events (server-sent events), changes via the
// JSON API (docs/api.md). No framework, no build step.
"use strict";

const $ = (id) => document.getElementById(id);

const PHASE_TEXT = {
  idle: "Ready",
  "lead-in": "Settle in",
  inhale: "Breathe in",
  "hold-in": "Hold",
  exhale: "Breathe out",
  "hold-out": "Rest",
  closing: "Well done",
  pulse: "Time to breathe",
  confirm: "Done",
};
const RECONNECT_MS = 5000;
const SAVED_MS = 1500;
const WEEKDAYS = ["S", "M", "T", "W", "T", "F", "S"];
const HOUR_STEP_MIN = 30;

let choices = {};
let patternTouched = false;
let firstStatus = true;
let savedTimer = 0;

// -- the API ---------------------------------------------------------------------------

async function api(method, path, body) {
  const options = { method, headers: { Accept: "application/json" }, cache: "no-store" };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (err) {
    throw new Error("The device cannot be reached: is it on the same network?");
  }
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = null;
  }
  if (response.status === 401) {
    location.replace("/"); // shows what to do to get the key again
    throw new Error("This page needs its key again.");
  }
  if (!response.ok) {
    throw new Error((data && data.error) || `The device answered ${response.status}.`);
  }
  return data;
}

// "1 breath", "3 breaths", "0 sessions".
function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function say(text, ok) {
  const el = $("message");
  el.textContent = text;
  el.classList.toggle("ok", Boolean(ok));
  clearTimeout(savedTimer);
  if (ok) savedTimer = setTimeout(() => { el.textContent = ""; }, SAVED_MS);
}

function link(live, text) {
  const el = $("link");
  el.textContent = text || (live ? "live" : "offline");
  el.classList.toggle("live", live);
  el.classList.toggle("down", !live);
}

// -- the ring's state ----------------------------------------------------------------------

function clockTime(iso) {
  const d = new Date(iso);
  return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

// Breaths a minute with one decimal, or a dash for none.
function perMin(value) {
  return typeof value === "number" ? value.toFixed(1) : "–";
}

// The measured breathing rate (a breath sensor), while the service has a fresh one.
function showRate(rate) {
  const el = $("rate");
  el.hidden = !rate;
  el.textContent = rate ? `Breathing ${perMin(rate.per_min)} a minute` : "";
}

function showStatus(s) {
  const phase = s.phase || "idle";
  const running = s.state === "session";
  const ring = $("ring");
  if (firstStatus) {
    // Show the state the ring is in now, without growing into it from nothing.
    firstStatus = false;
    ring.classList.add("instant");
    requestAnimationFrame(() => requestAnimationFrame(() => {
      ring.classList.remove("instant");
      document.body.classList.add("ready");
    }));
  }
  ring.dataset.phase = phase;
  $("phase").textContent = PHASE_TEXT[phase] || phase;
  let line;
  if (running && s.breaths) {
    line = s.breath > 0 ? `Breath ${s.breath} of ${s.breaths}` : plural(s.breaths, "breath");
    if (s.pattern) line += ` · ${s.pattern}`;
  } else if (s.reminders) {
    line = s.next_pulse ? `Next reminder ${clockTime(s.next_pulse)}` : "Reminders on";
  } else {
    line = "Reminders off";
  }
  if (s.night) line += " · night";
  $("breath").textContent = line;
  $("start").hidden = running;
  $("stop").hidden = !running;
  $("pattern").disabled = running;
  $("reminders").checked = Boolean(s.reminders);
  if (!patternTouched && s.next_pattern) $("pattern").value = s.next_pattern;
  showRate(s.breath_rate);
}

async function loadStatus() {
  showStatus(await api("GET", "/api/status"));
}

// -- settings ------------------------------------------------------------------------------

function fillSelect(select, values, label) {
  const current = select.value;
  select.replaceChildren(...values.map((v) => {
    const option = document.createElement("option");
    option.value = String(v);
    option.textContent = label ? label(v) : String(v);
    return option;
  }));
  if (current) select.value = current;
}

function fillHours(select, current) {
  // Half-hour steps, plus the current value if it lies between them.
  const times = [];
  for (let m = 0; m < 24 * 60; m += HOUR_STEP_MIN) {
    times.push(`${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`);
  }
  if (!times.includes(current)) times.push(current);
  times.sort();
  fillSelect(select, times);
  select.value = current;
}

function minutesLabel(m) {
  if (m % 60 === 0) return m === 60 ? "hour" : `${m / 60} h`;
  return `${m} min`;
}

function hexColor(value) {
  if (Array.isArray(value)) {
    return "#" + value.map((c) => Number(c).toString(16).padStart(2, "0")).join("");
  }
  return typeof value === "string" ? value.slice(0, 7).toLowerCase() : "#ff8c32";
}

function showSettings(reply) {
  choices = reply.choices || choices;
  if (choices["session.pattern"]) fillSelect($("pattern"), choices["session.pattern"]);
  if (choices["reminder.every_minutes"]) {
    fillSelect($("every"), choices["reminder.every_minutes"], minutesLabel);
  }
  const settings = reply.settings || {};
  const value = (key) => (settings[key] ? settings[key].value : undefined);
  for (const el of document.querySelectorAll("[data-key]")) {
    const v = value(el.dataset.key);
    if (v === undefined || el === document.activeElement && el.type === "range") continue;
    if (el.type === "checkbox") el.checked = Boolean(v);
    else if (el.type === "color") el.value = hexColor(v);
    else el.value = String(v);
  }
  for (const el of document.querySelectorAll("[data-range]")) {
    const v = value(el.dataset.range);
    if (typeof v === "string" && v.includes("-")) {
      fillHours(el, v.split("-")[Number(el.dataset.end)].trim().padStart(5, "0"));
    }
  }
  // The custom pattern's seconds, once the service has them; what is typed stays otherwise.
  for (const el of document.querySelectorAll("[data-custom]")) {
    const v = value(el.dataset.custom);
    if (typeof v === "number" && el !== document.activeElement) el.value = String(v);
  }
  const color = value("ring.color");
  if (color !== undefined) document.documentElement.style.setProperty("--ring", hexColor(color));
  if (!patternTouched && value("session.pattern")) $("pattern").value = value("session.pattern");
}

async function loadSettings() {
  showSettings(await api("GET", "/api/settings"));
}

function inputValue(el) {
  if (el.type === "checkbox") return el.checked;
  if (el.type === "range") return el.valueAsNumber;
  if (el.type === "color") return el.value.toUpperCase();
  if (el.dataset.key === "reminder.every_minutes") return Number(el.value);
  return el.value;
}

async function save(changes) {
  try {
    await api("PATCH", "/api/settings", changes);
    say("Saved", true);
  } catch (err) {
    say(`Not saved: ${err.message}`);
    loadSettings().catch(() => {});
  }
}

// The custom pattern with its seconds, in one change: the service takes them all or none
// (and checks them). An empty hold is no hold; null when an in- or out-breath is empty.
function customChanges() {
  const changes = { "session.pattern": "custom" };
  for (const el of document.querySelectorAll("[data-custom]")) {
    if (el.value !== "") changes[el.dataset.custom] = el.valueAsNumber;
    else if (el.min === "0") changes[el.dataset.custom] = 0;
    else return null;
  }
  return changes;
}

function rangeValue(key) {
  const [from, to] = document.querySelectorAll(`[data-range="${key}"]`);
  return from.value && to.value ? `${from.value}-${to.value}` : null;
}

// -- history ---------------------------------------------------------------------------------

function showHistory(stats) {
  const days = stats.days || [];
  const most = Math.max(1, ...days.map((d) => d.minutes || 0));
  const bars = days.map((d, i) => {
    const bar = document.createElement("div");
    bar.className = "bar" + (i === days.length - 1 ? " today" : "");
    const fill = document.createElement("i");
    fill.style.height = `${Math.round(((d.minutes || 0) / most) * 100 * 0.8)}%`;
    if (d.completed > 0) fill.className = "done";
    const label = document.createElement("b");
    const date = new Date(`${d.date}T12:00:00`);
    label.textContent = WEEKDAYS[date.getDay()] || "";
    bar.title = `${d.date}: ${plural(d.sessions, "session")}, ${d.completed} completed, ` +
      `${d.minutes} min`;
    const rate = d.breath_rate;
    if (rate) bar.title += `, breathing ${perMin(rate.start)} → ${perMin(rate.end)} a minute`;
    bar.append(fill, label);
    return bar;
  });
  $("chart").replaceChildren(...bars);
  const total = days.reduce((n, d) => n + (d.completed || 0), 0);
  $("chart").setAttribute("aria-label",
    `${plural(total, "completed session")} in the last ${plural(days.length, "day")}`);
  const streak = stats.streak_days || 0;
  $("streak").textContent = streak > 0 ? `${streak}-day streak` : "No streak yet";
  const t = stats.today || {};
  let line = `Today: ${plural(t.sessions || 0, "session")} · ` +
    `${plural(t.breaths || 0, "breath")} · ${Math.round((t.minutes || 0) * 10) / 10} min`;
  const pulses = stats.pulses;
  if (pulses && pulses.shown) line += ` · reminders answered ${pulses.answered}/${pulses.shown}`;
  $("today").textContent = line;
  showRates(stats.breath_rates || []);
}

// Before and after: the breathing rate at the start and end of the last measured session.
function showRates(rated) {
  const el = $("rates");
  const last = rated[rated.length - 1];
  el.hidden = !last;
  if (!last) {
    el.textContent = "";
    return;
  }
  el.textContent = `Breathing ${perMin(last.rate_start)} → ${perMin(last.rate_end)} a minute ` +
    `· last measured ${last.pattern} session, ${clockTime(last.started)}`;
}

async function loadHistory() {
  showHistory(await api("GET", "/api/history?days=14"));
}

// -- live events -------------------------------------------------------------------------------

function connect() {
  const events = new EventSource("/api/events");
  events.addEventListener("open", () => link(true));
  events.addEventListener("status", (e) => {
    link(true);
    showStatus(JSON.parse(e.data));
  });
  events.addEventListener("settings", () => loadSettings().catch((err) => say(err.message)));
  events.addEventListener("history", () => loadHistory().catch((err) => say(err.message)));
  events.addEventListener("error", () => {
    link(false);
    if (events.readyState === EventSource.CLOSED) {
      // Refused (e.g. the service is not running): ask why, then try again later.
      loadStatus().catch((err) => say(err.message));
      setTimeout(connect, RECONNECT_MS);
    }
  });
}

// -- wiring ------------------------------------------------------------------------------------

async function act(button, method, path, body) {
  button.disabled = true;
  try {
    // The service answers start and stop with the status itself (docs/api.md).
    const reply = await api(method, path, body);
    showStatus(reply && reply.phase ? reply : await api("GET", "/api/status"));
    say("");
  } catch (err) {
    say(err.message);
  } finally {
    button.disabled = false;
  }
}

function wire() {
  $("pattern").addEventListener("change", () => { patternTouched = true; });
  $("start").addEventListener("click", () => {
    const pattern = $("pattern").value;
    act($("start"), "POST", "/api/session", pattern ? { pattern } : {});
  });
  $("stop").addEventListener("click", () => act($("stop"), "DELETE", "/api/session"));
  $("reminders").addEventListener("change", async (e) => {
    try {
      await api("PUT", "/api/reminders", { enabled: e.target.checked });
      say("Saved", true);
    } catch (err) {
      say(err.message);
      loadStatus().catch(() => {});
    }
  });
  for (const el of document.querySelectorAll("[data-key]")) {
    el.addEventListener("change", () => save({ [el.dataset.key]: inputValue(el) }));
  }
  $("custom-use").addEventListener("click", () => {
    const changes = customChanges();
    if (!changes) {
      say("Give the seconds to breathe in and out.");
      return;
    }
    patternTouched = false; // the select shows "custom" once the service has it
    save(changes);
  });
  for (const el of document.querySelectorAll("[data-range]")) {
    el.addEventListener("change", () => {
      const value = rangeValue(el.dataset.range);
      if (value) save({ [el.dataset.range]: value });
    });
  }
  $("color").addEventListener("input", (e) => {
    document.documentElement.style.setProperty("--ring", e.target.value);
  });
  document.addEventListener("visibilitychange", () => {
    if (!document.hidden) loadHistory().catch(() => {});
  });
}

async function start() {
  wire();
  try {
    await loadSettings();
    await loadHistory();
  } catch (err) {
    say(err.message);
  }
  connect();
}

start();
