// The scenefit page: one form, POST /v1/match, render the scene and the picks.
// No framework and no CDN: it must work on a machine with no internet access.
"use strict";

const $ = (id) => document.getElementById(id);
const form = $("match-form"), input = $("image"), drop = $("drop"), submit = $("submit");
let chosen = null;

$("apikey").value = localStorage.getItem("scenefit-api-key") || "";

// A random id, unguessable where the browser can (crypto.randomUUID only exists on https and
// localhost; crypto.getRandomValues everywhere a page can run).
function randomId() {
  const c = window.crypto;
  if (c && typeof c.randomUUID === "function") return c.randomUUID();
  if (c && typeof c.getRandomValues === "function") {
    return Array.from(c.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
  }
  return Array.from({ length: 4 }, () => Math.random().toString(16).slice(2, 10).padEnd(8, "0")).join("");
}

// The shopper's session: the server keeps one experiment variant per id. Kept across visits;
// where storage is off (some private modes) it lasts as long as the page.
const SESSION_KEY = "scenefit-session-id";
const sessionId = (() => {
  try {
    let id = localStorage.getItem(SESSION_KEY);
    if (!id || id.length > 128) {
      id = randomId();
      localStorage.setItem(SESSION_KEY, id);
    }
    return id;
  } catch {
    return randomId();
  }
})();

function choose(file) {
  if (!file) return;
  chosen = file;
  const preview = $("preview");
  preview.src = URL.createObjectURL(file);
  preview.hidden = false;
  $("drop-text").textContent = file.name;
  submit.disabled = false;
}

input.addEventListener("change", () => choose(input.files[0]));
["dragenter", "dragover"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.add("over"); }));
["dragleave", "drop"].forEach((t) => drop.addEventListener(t, (e) => { e.preventDefault(); drop.classList.remove("over"); }));
drop.addEventListener("drop", (e) => choose(e.dataTransfer.files[0]));
drop.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") input.click(); });

// fromFeedback: an error about feedback, which the next event that gets through clears.
function status(text, isError = false, fromFeedback = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
  if (fromFeedback) $("status").dataset.feedbackError = "true";
  else delete $("status").dataset.feedbackError;
}

const pct = (p) => `${Math.round(p * 100)}%`;
const best = (dist, n = 2) => Object.entries(dist).slice(0, n).map(([name, p]) => `${name} (${pct(p)})`).join(", ");

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;  // textContent: catalog text is never HTML
  return node;
}

function renderScene(scene) {
  // zero-shot room types are guesses from text prompts: the page says so, as the CLI does
  $("room").textContent = best(scene.room_type) + (scene.room_source === "zero-shot" ? " · a guess" : "");
  $("style").textContent = best(scene.style);
  $("palette").textContent = best(scene.palette);
  const swatches = $("swatches");
  swatches.replaceChildren(...scene.colours.map((c) => {
    const s = el("div", "swatch");
    const chip = el("span");
    chip.style.background = c.hex;
    chip.title = `${c.name} ${c.hex}`;
    s.append(chip, el("small", "", `${c.name} ${pct(c.share)}`));
    return s;
  }));
  $("scene").hidden = false;
}

// The match now shown: feedback names it. match_id is null where the server does not record matches.
let current = { matchId: null, variant: null, summary: "" };
// One event_id per (match, product, event) on this page: sending it again (a double click, a
// retry) is the same event to the server, never a second one.
const eventIds = new Map();
const pending = new Set();

const NOTES = { save: "Saved", dismiss: "Dismissed", click: "Opened" };

// 👍/👎 drawn inline rather than as emoji: headless and minimal machines often have no emoji font.
// (The thumb is Material Icons' thumb_up, Apache-2.0; 👎 is the same thumb turned over.)
const THUMB = "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06L14.17 1 "
  + "7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22l3.02-7.05c.09-.23.14-.47.14-.73v-2z";
function thumbIcon(down) {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("focusable", "false");
  const path = document.createElementNS(NS, "path");
  path.setAttribute("d", THUMB);
  if (down) path.setAttribute("transform", "rotate(180 12 12)");
  svg.append(path);
  return svg;
}

function apiHeaders(extra = {}) {
  const key = $("apikey").value.trim();
  return key ? { ...extra, Authorization: `Bearer ${key}` } : extra;
}

function showFeedback(card) {
  const note = card.querySelector(".fb-note");
  if (!note) return;
  note.textContent = NOTES[card.dataset.feedback] || (card.dataset.opened ? NOTES.click : "");
}

function recorded(card, event) {
  if (event === "click") {
    card.dataset.opened = "true";
  } else {
    card.dataset.feedback = event;
    card.querySelectorAll(".feedback button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.event === event)));
  }
  showFeedback(card);
  if ($("status").dataset.feedbackError) status(current.summary);
}

async function sendFeedback(card, event) {
  const matchId = current.matchId, productId = card.dataset.id;
  if (!matchId || card.dataset.matchId !== matchId) return;  // a card from an earlier match
  const key = `${matchId}\u0000${productId}\u0000${event}`;
  if (pending.has(key)) return;
  if (!eventIds.has(key)) eventIds.set(key, randomId());
  pending.add(key);
  card.setAttribute("aria-busy", "true");
  try {
    const resp = await fetch("/v1/feedback", {
      method: "POST",
      headers: apiHeaders({ "Content-Type": "application/json" }),
      body: JSON.stringify({ match_id: matchId, product_id: productId, event, event_id: eventIds.get(key) }),
      keepalive: true,  // a click opens a new tab: the event must not wait on this one
    });
    const body = await resp.json().catch(() => null);
    if (!resp.ok) {
      const why = body && body.error ? body.error.message : `the server answered ${resp.status}`;
      status(`Feedback not recorded: ${why}`, true, true);
      return;
    }
    recorded(card, event);  // 201 recorded, or 200 already recorded (the same event_id): both are done
  } catch (err) {
    status(`Could not send feedback: ${err}`, true, true);
  } finally {
    pending.delete(key);
    card.removeAttribute("aria-busy");
  }
}

function feedbackButton(card, event, label) {
  const b = el("button", `fb fb-${event}`);
  b.append(thumbIcon(event === "dismiss"));
  b.type = "button";
  b.dataset.event = event;
  b.title = label;
  b.setAttribute("aria-label", label);
  b.setAttribute("aria-pressed", "false");
  b.addEventListener("click", () => sendFeedback(card, event));
  return b;
}

function thumb(rec) {
  const box = el("div", "thumb");
  const placeholder = () => {
    box.replaceChildren(el("span", "placeholder", "▢"));
    // No photo to open: the link opens the product's record instead.
    const link = box.closest("a.open");
    if (link) link.href = `/v1/products/${encodeURIComponent(rec.id)}`;
  };
  if (rec.image) {
    // Served by scenefit from the copy it ingested: works offline and for local catalogs.
    const img = el("img");
    img.alt = rec.description;
    img.loading = "lazy";
    img.onerror = placeholder;  // no readable photo (its download failed at ingest)
    img.src = `/v1/products/${encodeURIComponent(rec.id)}/image`;
    box.append(img);
  } else {
    placeholder();
  }
  return box;
}

// Opening a card: its photo as scenefit serves it (or its record, where it has no photo), in a new tab.
function openLink(card, r, ...children) {
  const a = el("a", "open");
  a.href = r.image ? `/v1/products/${encodeURIComponent(r.id)}/image` : `/v1/products/${encodeURIComponent(r.id)}`;
  a.target = "_blank";
  a.rel = "noopener";
  a.append(...children);
  a.addEventListener("click", () => sendFeedback(card, "click"));
  a.addEventListener("auxclick", (e) => { if (e.button === 1) sendFeedback(card, "click"); });
  return a;
}

function renderCards(recs) {
  eventIds.clear();
  $("cards").replaceChildren(...recs.map((r) => {
    const card = el("li", "card");
    card.dataset.id = r.id;
    const body = el("div", "body");
    body.append(
      openLink(card, r, el("span", "desc", r.description)),
      el("div", "score", `#${r.rank} · fit ${r.score.toFixed(2)}`),
      el("div", "reason", r.reason),
    );
    if (current.matchId) {
      card.dataset.matchId = current.matchId;
      const row = el("div", "feedback");
      row.append(
        feedbackButton(card, "save", "Good fit — save"),
        feedbackButton(card, "dismiss", "Doesn’t fit — dismiss"),
        el("span", "fb-note"),
      );
      row.querySelector(".fb-note").setAttribute("aria-live", "polite");
      body.append(row);
    }
    const pic = openLink(card, r);
    pic.classList.add("pic");
    pic.tabIndex = -1;  // the description is the same link: one tab stop per card
    pic.setAttribute("aria-hidden", "true");
    card.append(pic, body);
    pic.append(thumb(r));  // in the link first: a missing photo points the link at the record
    return card;
  }));
  $("results").hidden = false;
}

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  if (!chosen) return;
  const data = new FormData();
  data.append("image", chosen);
  data.append("k", $("k").value);
  if ($("context").value.trim()) data.append("context", $("context").value.trim());
  data.append("session_id", sessionId);
  localStorage.setItem("scenefit-api-key", $("apikey").value.trim());
  const headers = apiHeaders();
  submit.disabled = true;
  status("Looking at the scene…");
  try {
    const resp = await fetch("/v1/match", { method: "POST", body: data, headers });
    const body = await resp.json().catch(() => null);
    if (!resp.ok) {
      status(body && body.error ? body.error.message : `The server answered ${resp.status}`, true);
      return;
    }
    current = { matchId: body.match_id || null, variant: body.variant || null, summary: "" };
    renderScene(body.scene);
    renderCards(body.recommendations);
    const ms = Object.values(body.timings_ms).reduce((a, b) => a + b, 0);
    current.summary = `${body.recommendations.length} picks from ${body.index.count} products in ${Math.round(ms)} ms`;
    status(current.summary);
  } catch (err) {
    status(`Could not reach the server: ${err}`, true);
  } finally {
    submit.disabled = false;
  }
});
