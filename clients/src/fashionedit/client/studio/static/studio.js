// FashionEdit studio: one page over the studio's JSON routes. No build step, no framework.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  session: null,        // the last session view from the server
  job: null,            // the job being polled
  box: null,            // [ymin, xmin, ymax, xmax] on 0-1000, or null
  refs: [],             // [{id, name, url}] uploads for the next round
  suggestion: null,     // {number, crop, keepCrop} when the form came from a suggestion
  editing: null,        // {number, keep: [stored references]} while the form edits an existing round
  startTarget: null,    // upload for the start form's target
  compare: [0, 0],
};

const METRIC_MEANINGS = {
  psnr: "Peak signal-to-noise ratio against the target, in dB, after resizing both to 256×256 (the paper's rule). Higher means the pixels are closer to the target; ~10 dB is the paper's range for a generated design against a photo.",
  clip: "Cosine similarity of CLIP ViT-L/14 image embeddings ×100. Higher means the design looks more like the target to CLIP; above 90 counts toward CLIP*.",
  ssim: "Structural similarity (0–1): how alike the structure (edges, shading) is. Higher is closer.",
  lpips: "Learned perceptual distance: lower is closer.",
};

// -- talking to the studio -----------------------------------------------------------------
class StudioError extends Error {}

async function api(path, options = {}) {
  const init = { ...options, headers: { ...(options.headers || {}) } };
  if (options.json !== undefined) {
    init.method = init.method || "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.json);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (err) {
    throw new StudioError("The studio did not answer (is `fashionedit studio` still running?)");
  }
  if (response.status === 401) {
    await signIn();
    return api(path, options);
  }
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch (err) { body = null; }
  if (!response.ok) {
    const message = body && body.error ? body.error.message : `the studio answered ${response.status}`;
    throw new StudioError(message);
  }
  return body;
}

function signIn() {
  return new Promise((resolve) => {
    const dialog = $("signin");
    $("signin-error").textContent = "";
    $("signin-form").onsubmit = async (event) => {
      event.preventDefault();
      const response = await fetch("api/login", { method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ token: $("signin-token").value }) });
      if (response.ok) { dialog.close(); resolve(); }
      else { $("signin-error").textContent = "That is not this studio's access token."; }
    };
    if (!dialog.open) dialog.showModal();
  });
}

function showError(message) {
  $("error-text").textContent = message;
  $("error").hidden = false;
}
function clearError() { $("error").hidden = true; $("error-text").textContent = ""; }
$("error-close").addEventListener("click", clearError);

async function guarded(work) {
  clearError();
  try { await work(); } catch (err) { showError(err instanceof StudioError ? err.message : String(err.message || err)); }
}

// -- small DOM helpers ---------------------------------------------------------------------------
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function imageUrl(image) {
  return `api/sessions/${encodeURIComponent(state.session.session.id)}/files/${image.path}?v=${image.sha256.slice(0, 12)}`;
}

function boxDiv(box, cls = "box") {
  if (!box) return null;
  const [ymin, xmin, ymax, xmax] = box;
  const div = el("div", { class: cls, title: `box_2d [${box.map((v) => Math.round(v)).join(", ")}]` });
  Object.assign(div.style, { top: `${ymin / 10}%`, left: `${xmin / 10}%`, height: `${(ymax - ymin) / 10}%`, width: `${(xmax - xmin) / 10}%` });
  return div;
}

function figure(image, caption, { box = null, small = false, chosen = false, alt = null } = {}) {
  return el("figure", { class: chosen ? "chosen" : null },
    el("div", { class: small ? "thumb-frame small" : "thumb-frame" },
      el("img", { src: imageUrl(image), alt: alt || caption, width: image.width, height: image.height }), boxDiv(box)),
    el("figcaption", {}, caption));
}

function modelBadges(model) {
  if (!model) return [];
  const out = [el("span", { class: "badge" }, `${model.backend} · ${model.model_id}`)];
  if (model.offline) out.push(el("span", { class: "badge offline" }, state.session ? state.session.offline_label : "offline profile"));
  if (model.random_weights) out.push(el("span", { class: "badge random" }, "random weights: not a model score"));
  return out;
}

function warningsList(warnings) {
  return (warnings || []).map((w) => el("div", { class: "warning" }, w));
}

function ms(timings) { return timings ? `${Math.round(timings.total_ms)} ms` : ""; }

// -- services and sessions list -------------------------------------------------------------------
async function loadInfo() {
  const info = await api("api/info");
  const list = $("services");
  list.replaceChildren();
  for (const [name, service] of Object.entries(info.services)) {
    const model = service.model;
    const label = service.ready ? `${name}: ${model ? model.backend : "ready"}` : `${name}: down`;
    list.append(el("li", { class: service.ready ? "" : "down", title: service.message || service.url },
      el("span", { class: "dot", "aria-hidden": "true" }), label, model && model.offline ? " (offline)" : ""));
  }
  const banner = $("offline-banner");
  banner.hidden = !info.offline;
  banner.textContent = info.offline
    ? `${info.offline_label}: results come from the offline backends (technical flats, classical editing and analysis, no CLIP weights), not from SD3, OpenAI or CLIP. Scores are not comparable with the paper's.`
    : "";
}

async function loadSessions() {
  const { sessions } = await api("api/sessions");
  const list = $("session-list");
  list.replaceChildren();
  for (const summary of sessions) {
    const current = state.session && state.session.session.id === summary.id;
    list.append(el("li", {}, el("a", { href: `#${summary.id}`, "aria-current": current ? "page" : null, "data-session": summary.id },
      summary.name || summary.prompt.slice(0, 48),
      el("span", { class: "sub" }, `${summary.completed}/${summary.rounds} rounds · ${summary.id}${summary.offline ? " · offline" : ""}`))));
  }
  if (!sessions.length) list.append(el("li", { class: "meta" }, "no sessions yet"));
}

// -- jobs -------------------------------------------------------------------------------------------
function renderProgress(job) {
  const box = $("progress");
  if (!job || job.state !== "running") { box.hidden = true; return; }
  box.hidden = false;
  const service = job.service ? `${job.service} · ` : "";
  const serviceTime = job.service && job.service_elapsed_s !== null ? ` (${job.service} ${job.service_elapsed_s.toFixed(1)} s)` : "";
  $("progress-text").textContent = `${service}${job.label} · ${job.elapsed_s.toFixed(1)} s${serviceTime}`;
  $("progress-bar").max = Math.max(job.calls_total, 1);
  $("progress-bar").value = job.calls_done;
  setBusy(true);
}

function setBusy(busy) {
  for (const id of ["round-button", "start-button", "undo-button", "resume-button"]) $(id).disabled = busy;
  document.querySelectorAll("[data-needs-idle]").forEach((b) => { b.disabled = busy; });
}

async function follow(job, sessionId) {
  state.job = job;
  renderProgress(job);
  // Show what the step saved before it calls a service (e.g. the queued round), while it runs.
  if (job.state === "running") await openSession(sessionId || job.session_id, { keepForm: true });
  while (job.state === "running") {
    await new Promise((r) => setTimeout(r, 400));
    job = (await api(`api/jobs/${job.id}`)).job;
    state.job = job;
    renderProgress(job);
  }
  setBusy(false);
  $("progress").hidden = true;
  // A failed round is kept in the session (pending, with its inputs) to finish later; other failures keep the form.
  await openSession(sessionId || job.session_id, { keepForm: job.state === "failed" && !["round", "retry"].includes(job.kind) });
  if (job.state === "failed") showError(job.error);
  document.body.dataset.jobsFinished = String(Number(document.body.dataset.jobsFinished || 0) + 1);  // for scripts and tests
  return job;
}

// -- start --------------------------------------------------------------------------------------------
function showStart() {
  state.session = null;
  $("session").hidden = true;
  $("start").hidden = false;
  history.replaceState(null, "", "./");
  loadSessions().catch(() => {});
  $("prompt").focus();
}
$("new-session").addEventListener("click", showStart);

$("start-form").addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(async () => {
    const body = {
      prompt: $("prompt").value,
      candidates: Number($("candidates").value || 1),
      size: Number($("size").value),
      seed: $("seed").value === "" ? null : Number($("seed").value),
      name: $("session-name").value,
      target: state.startTarget ? state.startTarget.id : null,
    };
    const answer = await api("api/sessions", { json: body });
    history.replaceState(null, "", `#${answer.session_id}`);
    await openSession(answer.session_id);
    await follow(answer.job, answer.session_id);
    state.startTarget = null;
    $("start-target-thumbs").replaceChildren();
  });
});

// -- uploads (drop or choose) ------------------------------------------------------------------------
async function uploadFile(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  const answer = await api("api/uploads", { method: "POST", body: form });
  return answer.upload;
}

function setupDropzone(zone, input, onFiles) {
  const handle = (files) => guarded(async () => {
    for (const file of files) await onFiles(await uploadFile(file));
  });
  input.addEventListener("change", () => { handle([...input.files]); input.value = ""; });
  zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); handle([...e.dataTransfer.files]); });
}

setupDropzone($("start-target-zone"), $("start-target-input"), async (upload) => {
  state.startTarget = upload;
  $("start-target-thumbs").replaceChildren(el("figure", {}, el("img", { src: upload.url, alt: `target ${upload.name}` }), el("figcaption", {}, upload.name)));
});
setupDropzone($("target-zone"), $("target-input"), async (upload) => {
  const id = state.session.session.id;
  const answer = await api(`api/sessions/${id}/target`, { json: { upload: upload.id } });
  await follow(answer.job, id);
});
setupDropzone($("ref-zone"), $("ref-input"), async (upload) => {
  state.refs.push(upload);
  renderRefs();
});

function renderRefs() {
  const thumbs = $("ref-thumbs");
  thumbs.replaceChildren();
  if (state.suggestion && state.suggestion.keepCrop && state.suggestion.crop) {
    thumbs.append(el("figure", {}, el("img", { src: imageUrl(state.suggestion.crop), alt: `suggestion ${state.suggestion.number} crop` }),
      el("figcaption", {}, `crop of suggestion ${state.suggestion.number} `,
        el("button", { type: "button", class: "link", "aria-label": `remove the crop of suggestion ${state.suggestion.number}`,
          onclick: () => { state.suggestion.keepCrop = false; renderRefs(); } }, "remove"))));
  }
  if (state.editing) {
    state.editing.keep.forEach((ref, index) => {
      const name = ref.source ? ref.source.split("/").pop() : ref.path;
      thumbs.append(el("figure", {}, el("img", { src: imageUrl(ref), alt: `kept reference ${name}` }),
        el("figcaption", {}, `${name} (kept) `,
          el("button", { type: "button", class: "link", "aria-label": `remove reference ${name}`,
            onclick: () => { state.editing.keep.splice(index, 1); state.editing.refsChanged = true; renderRefs(); } }, "remove"))));
    });
  }
  state.refs.forEach((upload, index) => {
    thumbs.append(el("figure", {}, el("img", { src: upload.url, alt: `reference ${upload.name}` }),
      el("figcaption", {}, `${upload.name} `,
        el("button", { type: "button", class: "link", "aria-label": `remove reference ${upload.name}`,
          onclick: () => { state.refs.splice(index, 1); renderRefs(); } }, "remove"))));
  });
  const images = state.refs.length + (state.suggestion && state.suggestion.keepCrop && state.suggestion.crop ? 1 : 0)
    + (state.editing ? state.editing.keep.length : 0);
  $("round-kind").textContent = images
    ? `image-into-prompt (BUG): the instruction plus ${images} reference image${images > 1 ? "s" : ""}`
    : "text-as-prompt (Vanilla): the instruction alone";
}

// -- the target box on the design ---------------------------------------------------------------------
const BOX_INPUTS = ["box-ymin", "box-xmin", "box-ymax", "box-xmax"];

function setBox(box) {
  state.box = box ? box.map((v) => Math.round(Math.min(1000, Math.max(0, v)))) : null;
  const div = $("draw-box");
  BOX_INPUTS.forEach((id, i) => { $(id).value = state.box ? state.box[i] : ""; });
  if (!state.box) { div.hidden = true; return; }
  const [ymin, xmin, ymax, xmax] = state.box;
  Object.assign(div.style, { top: `${ymin / 10}%`, left: `${xmin / 10}%`, height: `${Math.max(0, ymax - ymin) / 10}%`, width: `${Math.max(0, xmax - xmin) / 10}%` });
  div.hidden = false;
}

BOX_INPUTS.forEach((id) => $(id).addEventListener("input", () => {
  const values = BOX_INPUTS.map((i) => $(i).value);
  if (values.every((v) => v !== "")) setBox(values.map(Number));
  else if (values.every((v) => v === "")) setBox(null);
}));
$("box-clear").addEventListener("click", () => setBox(null));

(function setupDrawing() {
  const canvas = $("canvas");
  let drag = null;
  const point = (event) => {
    const rect = canvas.getBoundingClientRect();
    return [((event.clientY - rect.top) / rect.height) * 1000, ((event.clientX - rect.left) / rect.width) * 1000];
  };
  canvas.addEventListener("pointerdown", (event) => {
    if (!$("design-image").src) return;
    event.preventDefault();
    const [y, x] = point(event);
    const handle = event.target.dataset ? event.target.dataset.handle : undefined;
    if (handle && state.box) drag = { mode: "resize", handle, start: [y, x], box: [...state.box] };
    else if (event.target === $("draw-box") && state.box) drag = { mode: "move", start: [y, x], box: [...state.box] };
    else { drag = { mode: "draw", start: [y, x] }; setBox([y, x, y, x]); }
    canvas.setPointerCapture(event.pointerId);
  });
  canvas.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const [y, x] = point(event);
    const [dy, dx] = [y - drag.start[0], x - drag.start[1]];
    if (drag.mode === "draw") {
      setBox([Math.min(drag.start[0], y), Math.min(drag.start[1], x), Math.max(drag.start[0], y), Math.max(drag.start[1], x)]);
    } else if (drag.mode === "move") {
      const [ymin, xmin, ymax, xmax] = drag.box;
      const h = ymax - ymin, w = xmax - xmin;
      const top = Math.min(1000 - h, Math.max(0, ymin + dy)), left = Math.min(1000 - w, Math.max(0, xmin + dx));
      setBox([top, left, top + h, left + w]);
    } else {
      let [ymin, xmin, ymax, xmax] = drag.box;
      if (drag.handle.includes("n")) ymin += dy; else ymax += dy;
      if (drag.handle.includes("w")) xmin += dx; else xmax += dx;
      setBox([Math.min(ymin, ymax), Math.min(xmin, xmax), Math.max(ymin, ymax), Math.max(xmin, xmax)]);
    }
  });
  canvas.addEventListener("keydown", (event) => {
    const steps = { ArrowUp: [-1, 0], ArrowDown: [1, 0], ArrowLeft: [0, -1], ArrowRight: [0, 1] };
    if ((event.key === "Delete" || event.key === "Backspace") && state.box) { event.preventDefault(); setBox(null); return; }
    if (!steps[event.key]) return;
    event.preventDefault();
    const [dy, dx] = steps[event.key].map((v) => v * 10);
    if (!state.box) { setBox([400, 400, 600, 600]); return; }  // a first box in the middle, to move and resize
    const [ymin, xmin, ymax, xmax] = state.box;
    if (event.shiftKey) {
      setBox([ymin, xmin, Math.max(ymin + 10, ymax + dy), Math.max(xmin + 10, xmax + dx)]);
    } else {
      const top = Math.min(1000 - (ymax - ymin), Math.max(0, ymin + dy)), left = Math.min(1000 - (xmax - xmin), Math.max(0, xmin + dx));
      setBox([top, left, top + ymax - ymin, left + xmax - xmin]);
    }
  });
  const end = () => { drag = null; };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);
})();

// -- a session ----------------------------------------------------------------------------------------
async function openSession(id, { keepForm = false } = {}) {
  const view = await api(`api/sessions/${encodeURIComponent(id)}`);
  const switched = !state.session || state.session.session.id !== view.session.id;
  state.session = view;
  if (switched || !keepForm) resetRoundForm();
  $("start").hidden = true;
  $("session").hidden = false;
  if (location.hash !== `#${view.session.id}`) history.replaceState(null, "", `#${view.session.id}`);
  renderSession();
  loadSessions().catch(() => {});
  if (view.job && (!state.job || state.job.id !== view.job.id || state.job.state !== "running")) follow(view.job, view.session.id);
}

function resetRoundForm() {
  state.refs = [];
  state.suggestion = null;
  state.editing = null;
  $("instruction").value = "";
  setBox(null);
  renderRefs();
}

function stepLabel(index) { return index === 0 ? "draft" : `round ${index}`; }

function renderSession() {
  const view = state.session;
  const s = view.session;
  $("session-title").textContent = s.name || `Design session ${s.id}`;
  const meta = [`session ${s.id}`, `created ${s.created_at.slice(0, 16).replace("T", " ")} UTC`];
  if (s.branched_from) meta.push(`branched from ${s.branched_from.session_id} at ${stepLabel(s.branched_from.round)}`);
  $("session-meta").replaceChildren(meta.join(" · "), " ", view.offline ? el("span", { class: "badge offline" }, view.offline_label) : "",
    view.random_weights ? el("span", { class: "badge random" }, "random weights") : "");
  $("export-link").href = `api/sessions/${s.id}/export`;
  $("export-link").setAttribute("download", `fashionedit-${s.id}.html`);
  $("resume-button").hidden = !view.pending || !!view.job;
  $("undo-button").hidden = s.rounds.length === 0;
  renderDraft();
  renderWorkbench();
  renderTimeline();
  renderCompare();
  setBusy(!!(view.job && view.job.state === "running"));
}

function renderDraft() {
  const s = state.session.session;
  const d = s.draft;
  $("draft-heading").replaceChildren("Drafts ", ...modelBadges(d.model), d.timings ? el("span", { class: "meta" }, ms(d.timings)) : "");
  $("draft-prompt").textContent = `“${d.prompt}”`;
  $("draft-warnings").replaceChildren(...warningsList(d.warnings), d.error ? el("div", { class: "error" }, d.error) : "");
  const row = $("candidates-row");
  row.replaceChildren();
  d.candidates.forEach((candidate, n) => {
    const chosen = d.chosen === n;
    const fig = figure(candidate.image, `candidate ${n + 1} · seed ${candidate.seed}${chosen ? " · picked" : ""}`, { chosen });
    if (!chosen && (s.rounds.length === 0)) {
      fig.append(el("button", { type: "button", class: "primary", "data-needs-idle": true, "aria-label": `Pick candidate ${n + 1}`,
        onclick: () => guarded(async () => { const a = await api(`api/sessions/${s.id}/pick`, { json: { index: n } }); await follow(a.job, s.id); }) },
        "Pick this draft"));
    }
    row.append(fig);
  });
  if (!d.candidates.length) row.append(el("div", { class: "meta" }, d.error ? "no drafts yet: fix the cause and finish the pending steps" : "generating drafts…"));
  $("target-view").replaceChildren(s.target ? figure(s.target, "target / inspiration", { small: false }) : "");
  document.querySelector('label[for="target-input"]').textContent = s.target
    ? "Replace the target image (scores and suggested edits are made again for every step)"
    : "Set a target or inspiration image (guidance: scores and suggested edits)";
}

function currentIndex() { return state.session.completed; }

function renderWorkbench() {
  const view = state.session;
  const s = view.session;
  const bench = $("workbench");
  const image = view.steps[currentIndex()] ? view.steps[currentIndex()].image : null;
  bench.hidden = s.draft.chosen === null || !image;
  if (bench.hidden) return;
  const editing = state.editing;
  const base = editing ? editing.number - 1 : currentIndex();
  const shown = view.steps[base].image || image;
  const img = $("design-image");
  const url = imageUrl(shown);
  if (img.getAttribute("src") !== url) img.src = url;
  img.alt = `design to edit (${stepLabel(base)})`;
  const blocking = view.blocking_round;
  const number = editing ? editing.number : (blocking || s.rounds.length + 1);
  $("workbench-heading").textContent = editing ? `Edit round ${number}: it edits the ${stepLabel(base)} design`
    : `Round ${number}: edit the ${stepLabel(base)} design`;
  $("round-button").textContent = editing ? `Run round ${number} again` : (blocking ? `Run in place of round ${blocking}` : "Run round");
  $("edit-cancel").hidden = !editing;
  const notice = $("blocking-notice");
  notice.hidden = !blocking || !!editing;
  if (blocking) notice.textContent = `Round ${blocking} is ${view.round_states[blocking - 1]}${s.rounds[blocking - 1].error ? ` (${s.rounds[blocking - 1].error})` : ""}. `
    + "Finish it (Finish pending steps), retry, edit or drop it in the history, or run a new round in its place.";
  $("design-caption").textContent = `${stepLabel(base)} · ${shown.width}×${shown.height} · drag on the design to draw the target box; drag the box to move it, its corners to resize it`;
  renderGuidance($("guidance"), s.rounds.length ? s.rounds[s.rounds.length - 1].guidance : s.draft.guidance, true);
}

function scoresTable(scores, explain = true) {
  if (!scores) return null;
  const pair = scores.pair;
  const unavailable = {};
  for (const status of scores.metrics || []) if (!status.available) unavailable[status.metric] = status.reason || "unavailable";
  const rows = [];
  const fmt = { psnr: (v) => `${v.toFixed(2)} dB`, clip: (v) => v.toFixed(2), ssim: (v) => v.toFixed(4), lpips: (v) => v.toFixed(4) };
  for (const metric of ["psnr", "clip", "ssim", "lpips"]) {
    const value = pair[metric];
    if (value !== null && value !== undefined) {
      let extra = "";
      if (metric === "clip" && pair.above_threshold !== null && pair.above_threshold !== undefined) extra = pair.above_threshold ? " (counts toward CLIP*)" : " (below the CLIP* threshold)";
      rows.push(scoreRow(metric, fmt[metric](value) + extra, explain));
    } else if (unavailable[metric]) {
      rows.push(scoreRow(metric, `not computed: ${unavailable[metric]}`, explain));
    }
  }
  if (pair.identical) rows.push(el("tr", {}, el("td", { colspan: 2, class: "meaning" }, `identical to the target: ${scores.psnr_rule || ""}`)));
  return el("table", { class: "scores" }, el("caption", { class: "meta" }, "scores against the target ", ...modelBadges(scores.model)), rows);
}

function scoreRow(metric, text, explain) {
  return el("tr", { title: METRIC_MEANINGS[metric] }, el("th", {}, metric.toUpperCase()),
    el("td", {}, text, explain ? el("div", { class: "meaning" }, METRIC_MEANINGS[metric]) : null));
}

function renderGuidance(container, guidance, clickable) {
  container.replaceChildren();
  if (!guidance) {
    if (clickable && !state.session.session.target) container.append(el("div", { class: "meta" }, "Set a target image to get scores and suggested edits for each round."));
    return;
  }
  const left = el("div", {});
  if (guidance.analysis) {
    left.append(el("h4", {}, clickable ? "Suggested next edits (click one to use it)" : "Differences from the target ", ...modelBadges(guidance.analysis.model)));
    const list = el("ul", { class: "suggestions" });
    for (const suggestion of guidance.analysis.suggestions) {
      const content = [suggestion.crop ? el("img", { src: imageUrl(suggestion.crop), alt: "" }) : null,
        el("span", { class: "text" }, suggestion.description, el("br"), el("span", { class: "meta" }, `box_2d [${suggestion.box_2d.map((v) => Math.round(v)).join(", ")}]`))];
      if (clickable) {
        const button = el("button", { type: "button", class: "suggestion", "data-suggestion": suggestion.number,
          "aria-label": `Use suggestion ${suggestion.number}: ${suggestion.description}`, onclick: () => useSuggestion(suggestion) }, content);
        const hint = () => { const h = $("hint-box"); const d = boxDiv(suggestion.box_2d, "hint-box"); h.style.cssText = d.style.cssText; h.hidden = false; };
        const unhint = () => { $("hint-box").hidden = true; };
        button.addEventListener("mouseenter", hint); button.addEventListener("focus", hint);
        button.addEventListener("mouseleave", unhint); button.addEventListener("blur", unhint);
        list.append(el("li", {}, button));
      } else {
        list.append(el("li", { class: "suggestion" }, content));
      }
    }
    if (!guidance.analysis.suggestions.length) list.append(el("li", { class: "meta" }, "no differences found"));
    left.append(list);
  }
  const right = el("div", {}, scoresTable(guidance.scores, clickable), (guidance.errors || []).map((e) => el("div", { class: "error" }, e)));
  container.append(left, right);
}

function useSuggestion(suggestion) {
  state.suggestion = { number: suggestion.number, crop: suggestion.crop, keepCrop: !!suggestion.crop };
  $("instruction").value = suggestion.description;
  setBox(suggestion.box_2d);
  renderRefs();
  $("instruction").focus();
}

$("round-form").addEventListener("submit", (event) => {
  event.preventDefault();
  guarded(async () => {
    const s = state.session.session;
    if (state.box && (state.box[0] >= state.box[2] || state.box[1] >= state.box[3])) {
      throw new StudioError("The target box has no area: drag across the design to draw a box, or clear it.");
    }
    if (state.editing) {
      const body = { instruction: $("instruction").value };
      if (state.box) body.box = state.box; else body.clear_box = true;
      if (state.editing.refsChanged || state.refs.length) {
        body.keep_references = state.editing.keep.map((r) => r.path);
        body.references = state.refs.map((r) => r.id);
      }
      const answer = await api(`api/sessions/${s.id}/rounds/${state.editing.number}/retry`, { json: body });
      await follow(answer.job, s.id);
      return;
    }
    const body = { instruction: $("instruction").value, references: state.refs.map((r) => r.id), box: state.box,
      replace: !!state.session.blocking_round };
    if (state.suggestion) { body.suggestion = state.suggestion.number; body.suggestion_crop = state.suggestion.keepCrop; }
    const answer = await api(`api/sessions/${s.id}/rounds`, { json: body });
    await follow(answer.job, s.id);
  });
});

$("resume-button").addEventListener("click", () => guarded(async () => {
  const id = state.session.session.id;
  const answer = await api(`api/sessions/${id}/resume`, { json: {} });
  await follow(answer.job, id);
}));

$("undo-button").addEventListener("click", () => guarded(async () => {
  const id = state.session.session.id;
  await api(`api/sessions/${id}/undo`, { json: {} });
  await openSession(id);
}));

$("edit-cancel").addEventListener("click", () => { resetRoundForm(); renderWorkbench(); });

function startEdit(round) {
  resetRoundForm();
  state.editing = { number: round.index, keep: [...round.references], refsChanged: false };
  $("instruction").value = round.instruction;
  setBox(round.target_box);
  renderRefs();
  renderWorkbench();
  $("workbench").scrollIntoView({ block: "start" });
  $("instruction").focus();
}

function renderTimeline() {
  const s = state.session.session;
  const list = $("timeline");
  list.replaceChildren();
  list.append(el("li", { id: "step-0" }, el("div", { class: "round-head" },
    el("strong", {}, "Draft"), el("div", { class: "round-actions" },
      el("button", { type: "button", "data-needs-idle": true, "aria-label": "Branch from the draft", onclick: () => branchFrom(0) }, "Branch from here")))));
  for (const round of s.rounds) list.append(roundItem(s, round));
}

function roundItem(s, round) {
  const running = state.session.job && state.session.job.state === "running" && round.status === "pending";
  const roundState = running ? "running" : state.session.round_states[round.index - 1];
  const last = round.index === s.rounds.length;
  const undone = round.status === "failed" || round.status === "pending";
  const laterDone = s.rounds.slice(round.index).some((r) => r.status === "done" || r.status === "edited");
  const mode = round.mode || (round.references.length ? "text+image" : "text");
  const kind = mode === "text+image" ? "image-into-prompt (BUG)" : "text-as-prompt (Vanilla)";
  const figures = [];
  const input = state.session.steps[round.index - 1].image;
  if (input) figures.push(figure(input, `input: ${stepLabel(round.index - 1)}`, { small: true }));
  round.references.forEach((ref, n) => {
    const fromCrop = round.from_suggestion && ref.source && ref.source.startsWith("images/");
    const origin = fromCrop ? " (crop of the suggestion)" : ref.source ? ` (${ref.source.split("/").pop()})` : "";
    figures.push(figure(ref, `reference ${n + 1}${origin}`, { small: true }));
  });
  if (round.output) figures.push(figure(round.output, `round ${round.index} result`, { box: round.applied_box || round.target_box }));
  const details = [];
  if (round.target_box) details.push(`box_2d [${round.target_box.map((v) => Math.round(v)).join(", ")}]`);
  if (round.from_suggestion) details.push(`from suggestion ${round.from_suggestion} of ${stepLabel(round.index - 1)}`);
  if (round.timings) details.push(`edit ${ms(round.timings)}`);
  if (round.guidance && round.guidance.scores) details.push(`scored in ${ms(round.guidance.scores.timings)}`);
  if (round.guidance && round.guidance.analysis && round.guidance.analysis.timings) details.push(`analysed in ${ms(round.guidance.analysis.timings)}`);
  if (round.attempts > 1) details.push(`${round.attempts} attempts`);
  if (round.change) details.push(`changed ${(round.change.changed_fraction * 100).toFixed(1)}% of the pixels`
    + (round.change.inside_box !== null && round.change.inside_box !== undefined ? ` (${(round.change.inside_box * 100).toFixed(1)}% inside the box)` : ""));
  const done = round.status === "done" || round.status === "edited";
  const guidance = el("div", { class: "guidance" });
  renderGuidance(guidance, round.guidance, false);
  const psnr = round.guidance && round.guidance.scores ? round.guidance.scores.pair.psnr : null;
  const found = round.guidance && round.guidance.analysis ? round.guidance.analysis.suggestions.length : null;
  const summary = [psnr !== null && psnr !== undefined ? `PSNR ${psnr.toFixed(2)} dB` : null, found !== null ? `${found} difference(s)` : null]
    .filter(Boolean).join(" · ");
  const guidanceBlock = round.guidance ? el("details", { class: "round-guidance" },
    el("summary", {}, `Scores and differences from the target${summary ? ` (${summary})` : ""}`), guidance) : null;
  return el("li", { id: `step-${round.index}`, "data-round": round.index },
    el("div", { class: "round-head" },
      el("div", {}, el("strong", {}, `Round ${round.index}`), " ", el("span", { class: "badge mode" }, kind),
        roundState !== "done" ? el("span", { class: "badge fail", title: round.change && round.change.no_op_reason ? round.change.no_op_reason : null }, roundState) : "",
        ...modelBadges(round.model)),
      el("div", { class: "round-actions" },
        done ? el("button", { type: "button", "data-needs-idle": true, "aria-label": `Branch from round ${round.index}`, onclick: () => branchFrom(round.index) }, "Branch from here") : null,
        !laterDone ? el("button", { type: "button", "data-needs-idle": true, "aria-label": `Retry round ${round.index}`, onclick: () => retryRound(round) }, "Retry") : null,
        !laterDone ? el("button", { type: "button", "data-needs-idle": true, "aria-label": `Edit round ${round.index}`, onclick: () => startEdit(round) }, "Edit") : null,
        last || undone ? el("button", { type: "button", class: "danger", "data-needs-idle": true, "aria-label": `Drop round ${round.index}`, onclick: () => dropRound(round) }, "Drop") : null)),
    el("div", { class: "instruction" }, `“${round.instruction}”`),
    round.prompt ? el("div", { class: "prompt" }, `prompt sent: ${round.prompt}`) : null,
    el("div", { class: "meta" }, details.join(" · ")),
    round.error ? el("div", { class: "error" }, round.error) : null,
    round.change && round.change.no_op ? el("div", { class: "warning" }, `no-op: ${round.change.no_op_reason}`) : null,
    warningsList(round.warnings),
    el("div", { class: "row" }, figures),
    guidanceBlock);
}

async function branchFrom(index) {
  await guarded(async () => {
    const s = state.session.session;
    const answer = await api(`api/sessions/${s.id}/branch`, { json: { round: index } });
    await openSession(answer.session_id);
  });
}

async function retryRound(round) {
  await guarded(async () => {
    const s = state.session.session;
    const answer = await api(`api/sessions/${s.id}/rounds/${round.index}/retry`, { json: {} });
    await follow(answer.job, s.id);
  });
}

async function dropRound(round) {
  await guarded(async () => {
    const s = state.session.session;
    if (!confirm(`Drop round ${round.index}? Its result leaves the session (the files stay on disk).`)) return;
    await api(`api/sessions/${s.id}/rounds/${round.index}`, { method: "DELETE" });
    await openSession(s.id);
  });
}

// -- compare --------------------------------------------------------------------------------------------
function renderCompare() {
  const steps = state.session.steps.filter((step) => step.image);
  $("compare-panel").hidden = steps.length < 2;
  $("compare-heading").replaceChildren("Compare ", state.session.offline ? el("span", { class: "badge offline" }, state.session.offline_label) : "");
  if (state.compareSession !== state.session.session.id) {  // another session: start from the draft against the latest
    state.compareSession = state.session.session.id;
    state.compareChosen = false;
    state.compare = [0, 0];
  }
  const [a, b] = [$("compare-a"), $("compare-b")];
  const last = steps.length ? steps[steps.length - 1].index : 0;
  if (!steps.some((st) => st.index === state.compare[0])) state.compare[0] = 0;
  if (!state.compareChosen || !steps.some((st) => st.index === state.compare[1])) state.compare[1] = last;  // the latest, until one is chosen
  for (const [select, chosen] of [[a, state.compare[0]], [b, state.compare[1]]]) {
    select.replaceChildren(...steps.map((st) => el("option", { value: st.index, selected: st.index === chosen }, stepLabel(st.index))));
  }
  drawCompare();
}

function drawCompare() {
  const view = $("compare-view");
  view.replaceChildren();
  const find = (i) => state.session.steps.find((st) => st.index === i);
  const [left, right] = [find(state.compare[0]), find(state.compare[1])];
  if (!left || !right || !left.image || !right.image) { view.append(el("div", { class: "meta" }, "nothing to compare yet")); return; }
  const position = Number($("compare-slider").value);
  const slider = el("div", { class: "slider", "aria-label": `before/after: ${stepLabel(left.index)} left of the line, ${stepLabel(right.index)} right of it` },
    el("img", { src: imageUrl(right.image), alt: `${stepLabel(right.index)} (after)` }),
    el("div", { class: "over", style: `clip-path: inset(0 ${100 - position}% 0 0)` }, el("img", { src: imageUrl(left.image), alt: `${stepLabel(left.index)} (before)` })),
    el("div", { class: "line", style: `left: ${position}%` }));
  view.append(
    el("figure", {}, el("img", { src: imageUrl(left.image), alt: `${stepLabel(left.index)} (left)` }), el("figcaption", {}, stepLabel(left.index))),
    el("figure", {}, el("img", { src: imageUrl(right.image), alt: `${stepLabel(right.index)} (right)` }), el("figcaption", {}, stepLabel(right.index))),
    el("figure", {}, slider, el("figcaption", {}, `before/after: ${stepLabel(left.index)} | ${stepLabel(right.index)}`)));
}

$("compare-a").addEventListener("change", () => { state.compare[0] = Number($("compare-a").value); state.compareChosen = true; drawCompare(); });
$("compare-b").addEventListener("change", () => { state.compare[1] = Number($("compare-b").value); state.compareChosen = true; drawCompare(); });
$("compare-slider").addEventListener("input", drawCompare);

// -- navigation --------------------------------------------------------------------------------------------
$("session-list").addEventListener("click", (event) => {
  const link = event.target.closest("a[data-session]");
  if (!link) return;
  event.preventDefault();
  guarded(() => openSession(link.dataset.session));
});

window.addEventListener("hashchange", () => {
  const id = location.hash.slice(1);
  if (id && (!state.session || state.session.session.id !== id)) guarded(() => openSession(id));
});

(async function boot() {
  await guarded(loadInfo);
  await guarded(loadSessions);
  const id = location.hash.slice(1);
  if (id) await guarded(() => openSession(id));
  else showStart();
  setInterval(() => loadInfo().catch(() => {}), 15000);
})();
