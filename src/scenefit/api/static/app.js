// The scenefit page: one form, POST /v1/match, render the scene and the picks.
// No framework and no CDN: it must work on a machine with no internet access.
"use strict";

const $ = (id) => document.getElementById(id);
const form = $("match-form"), input = $("image"), drop = $("drop"), submit = $("submit");
let chosen = null;

$("apikey").value = localStorage.getItem("scenefit-api-key") || "";

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

function status(text, isError = false) {
  $("status").textContent = text;
  $("status").className = isError ? "error" : "";
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

function thumb(rec) {
  const box = el("div", "thumb");
  const placeholder = () => box.replaceChildren(el("span", "placeholder", "▢"));
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

function renderCards(recs) {
  $("cards").replaceChildren(...recs.map((r) => {
    const card = el("li", "card");
    card.dataset.id = r.id;
    const body = el("div", "body");
    body.append(
      el("div", "desc", r.description),
      el("div", "score", `#${r.rank} · fit ${r.score.toFixed(2)}`),
      el("div", "reason", r.reason),
    );
    card.append(thumb(r), body);
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
  const headers = {};
  const key = $("apikey").value.trim();
  localStorage.setItem("scenefit-api-key", key);
  if (key) headers.Authorization = `Bearer ${key}`;
  submit.disabled = true;
  status("Looking at the scene…");
  try {
    const resp = await fetch("/v1/match", { method: "POST", body: data, headers });
    const body = await resp.json().catch(() => null);
    if (!resp.ok) {
      status(body && body.error ? body.error.message : `The server answered ${resp.status}`, true);
      return;
    }
    renderScene(body.scene);
    renderCards(body.recommendations);
    const ms = Object.values(body.timings_ms).reduce((a, b) => a + b, 0);
    status(`${body.recommendations.length} picks from ${body.index.count} products in ${Math.round(ms)} ms`);
  } catch (err) {
    status(`Could not reach the server: ${err}`, true);
  } finally {
    submit.disabled = false;
  }
});
