// The BYOK dashboard: Project settings → Project access and BYOK.
//
// Plain DOM, no framework, no build step. It calls only the service's public REST API on this
// origin with the `anchor-api-key` header. No provider secret is ever read back (the API never
// returns one); a secret typed into the key form lives in that form's input until the request is
// sent, and is wiped from the DOM as soon as the key is saved or the dialog closes.

const SESSION_KEY = "byok.dashboard.session";
const SLUG_RE = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
const SLUG_MAX = 64;
const SA_FILE_MAX_BYTES = 64 * 1024;

/** Plain words for `error.details.reason` of a failed Verify & Save, and `last_error.reason`. */
const REASONS = {
  invalid_credentials: "The provider rejected this key.",
  permission_denied:
    "The provider accepted the key but refused the request: check the account's permissions, region, and that the API is enabled.",
  model_not_found: "The default model does not exist, or this key has no access to it.",
  quota_exceeded: "The provider says this account is out of credit or quota.",
  endpoint_not_allowed:
    "This endpoint is not allowed: the base URL must use https and reach a public address.",
  invalid_response: "The endpoint answered, but not like this provider's API. Check the base URL.",
  rate_limited: "The provider is rate-limiting requests right now.",
  provider_unavailable: "The provider is having trouble right now (it answered with a server error). Try again later.",
  endpoint_unreachable: "The endpoint could not be reached (DNS, connection or TLS failure). Check the address.",
  timeout: "The provider did not answer in time. Try again.",
};

/** What a field's value must look like, for the server's pattern errors. */
const FIELD_RULES = {
  key_slug: "Use lowercase letters, digits and hyphens (up to 64), starting and ending with a letter or digit.",
  location: "Use a region id such as global or us-central1.",
  api_version: "Use an API version date such as 2024-10-21 (or 2024-10-21-preview), or leave it empty.",
  default_model: "A model name has no spaces and no ? or #.",
  base_url: "Enter the endpoint's full address, starting with https://.",
};

const state = {
  projectId: null,
  apiKey: null, // the project API key (the one thing kept in sessionStorage)
  project: null,
  providers: [],
  providerByName: new Map(),
  keys: [],
  apiKeys: [],
  usage: null, // Map key_slug -> totals, or null while the usage route does not answer
};

// ---------------------------------------------------------------------------------------------
// Small DOM helpers

const $ = (selector, root = document) => root.querySelector(selector);

/** Create an element: h("td", {class: "x", "data-label": "Name"}, "text", childNode). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") el.className = value;
    else if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else el.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

function show(el, visible = true) {
  el.hidden = !visible;
}

function setText(el, text) {
  el.textContent = text || "";
  show(el, Boolean(text));
}

const relativeFormat = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
const absoluteFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
const dateFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });
const numberFormat = new Intl.NumberFormat(undefined, { notation: "compact", maximumFractionDigits: 1 });

function relativeTime(date) {
  const seconds = (date.getTime() - Date.now()) / 1000;
  const abs = Math.abs(seconds);
  if (abs < 45) return "just now";
  if (abs < 3600) return relativeFormat.format(Math.round(seconds / 60), "minute");
  if (abs < 86400) return relativeFormat.format(Math.round(seconds / 3600), "hour");
  if (abs < 86400 * 30) return relativeFormat.format(Math.round(seconds / 86400), "day");
  return dateFormat.format(date);
}

function timeEl(iso, never = "Never") {
  if (!iso) return h("span", { class: "muted" }, never);
  const date = new Date(iso);
  return h("time", { datetime: iso, title: absoluteFormat.format(date) }, relativeTime(date));
}

function refreshTimes() {
  for (const el of document.querySelectorAll("time[datetime]")) {
    el.textContent = relativeTime(new Date(el.getAttribute("datetime")));
  }
}

let toastTimer = 0;
function toast(message, kind = "ok") {
  const el = $("#toast");
  el.textContent = message;
  el.dataset.kind = kind;
  el.classList.add("is-visible");
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => el.classList.remove("is-visible"), 6000);
}

function setBusyButton(button, busy) {
  button.disabled = busy;
  button.classList.toggle("is-busy", busy);
  button.setAttribute("aria-busy", busy ? "true" : "false");
}

/** A table cell: its label (shown before the value when the table becomes cards) and a wrapper. */
function cell(label, attrs, ...children) {
  return h("td", { "data-label": label, ...attrs }, h("div", { class: "cell" }, ...children));
}

function capitalize(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}

/** The catalogue's help text as a sentence: "e.g. global, us-central1" → "For example global, us-central1." */
function sentence(text) {
  const body = text.replace(/^e\.g\.\s*/i, "For example ");
  return capitalize(body.endsWith(".") ? body : `${body}.`);
}

// ---------------------------------------------------------------------------------------------
// The API

class ApiError extends Error {
  constructor(status, error, retryAfter) {
    super(error?.message || `The service answered HTTP ${status}.`);
    this.status = status;
    this.type = error?.type || "error";
    this.details = error?.details;
    this.retryAfter = retryAfter;
    this.handled = false;
  }
}

async function api(method, path, body) {
  const headers = { accept: "application/json" };
  if (state.apiKey) headers["anchor-api-key"] = state.apiKey;
  const init = { method, headers, cache: "no-store", credentials: "omit", redirect: "error" };
  if (body !== undefined) {
    headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    throw new ApiError(0, {
      type: "network",
      message: "The service cannot be reached. Check your connection and try again.",
    });
  }
  let payload = null;
  try {
    payload = await response.json();
  } catch {
    payload = null;
  }
  if (!response.ok) {
    const retryAfter = response.headers.get("retry-after");
    throw new ApiError(response.status, payload?.error, retryAfter);
  }
  return payload ? payload.data : null;
}

/** A call made while signed in: a 401 means the key stopped working, so sign out and say so. */
async function authed(method, path, body) {
  try {
    return await api(method, path, body);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      signOut("This API key is no longer accepted (it may have been revoked). Sign in again.");
      err.handled = true;
    }
    throw err;
  }
}

function projectPath(suffix = "") {
  return `/v1/projects/${encodeURIComponent(state.projectId)}${suffix}`;
}

function keyPath(slug = "") {
  return projectPath(slug ? `/keys/${encodeURIComponent(slug)}` : "/keys");
}

function reasonText(reason, retryAfter) {
  let text = REASONS[reason];
  if (!text) return null;
  if (reason === "rate_limited") {
    const seconds = Number.parseInt(retryAfter ?? "", 10);
    text += Number.isFinite(seconds) && seconds > 0
      ? ` Try again in ${seconds} second${seconds === 1 ? "" : "s"}.`
      : " Try again in a moment.";
  }
  return text;
}

function plainError(err) {
  if (!(err instanceof ApiError)) return "Something went wrong. Reload the page and try again.";
  if (err.status === 0) return err.message;
  if (err.status >= 500 && err.type !== "verification_failed") {
    return "The service could not complete this request. Try again in a moment.";
  }
  return capitalize(err.message);
}

// ---------------------------------------------------------------------------------------------
// Signing in and out

function saveSession() {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify({ projectId: state.projectId, apiKey: state.apiKey }));
}

function loadSession() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    if (saved && typeof saved.projectId === "string" && typeof saved.apiKey === "string") return saved;
  } catch {
    /* a damaged entry is simply ignored */
  }
  sessionStorage.removeItem(SESSION_KEY);
  return null;
}

function signInError(err) {
  if (!(err instanceof ApiError)) return "Something went wrong. Try again.";
  if (err.status === 401) return "That API key was not accepted. Check that you copied the whole key.";
  if (err.status === 404) return "No project with that id can be opened with this API key. Check the project id.";
  if (err.status === 403) return "This key cannot open a project. Use one of the project's API keys.";
  return plainError(err);
}

async function signIn(projectId, apiKey) {
  state.projectId = projectId;
  state.apiKey = apiKey;
  try {
    state.project = await api("GET", projectPath());
  } catch (err) {
    state.projectId = null;
    state.apiKey = null;
    throw err;
  }
  saveSession();
}

function signOut(message = "") {
  sessionStorage.removeItem(SESSION_KEY);
  for (const dialog of document.querySelectorAll("dialog[open]")) dialog.close();
  Object.assign(state, { projectId: null, apiKey: null, project: null, keys: [], apiKeys: [], usage: null });
  $("#keys").replaceChildren();
  $("#api-keys").replaceChildren();
  show($("#settings"), false);
  show($("#who"), false);
  document.title = "Project settings · BYOK";
  show($("#signin"), true);
  $("#signin-key").value = "";
  setText($("#signin-error"), message);
  if (state.lastProjectId) $("#signin-project").value = state.lastProjectId;
  (state.lastProjectId ? $("#signin-key") : $("#signin-project")).focus();
}

async function onSignInSubmit(event) {
  event.preventDefault();
  const projectInput = $("#signin-project");
  const keyInput = $("#signin-key");
  const projectId = projectInput.value.trim();
  const apiKey = keyInput.value.trim();
  setText($("#signin-error"), "");
  if (!projectId || !apiKey) {
    setText($("#signin-error"), "Enter the project id and a project API key.");
    (projectId ? keyInput : projectInput).focus();
    return;
  }
  const button = $("#signin-submit");
  setBusyButton(button, true);
  try {
    await signIn(projectId, apiKey);
  } catch (err) {
    setText($("#signin-error"), signInError(err));
    keyInput.focus();
    keyInput.select();
    return;
  } finally {
    setBusyButton(button, false);
  }
  keyInput.value = "";
  await enterSettings();
  $("#settings-title").focus();
}

async function enterSettings() {
  state.lastProjectId = state.projectId;
  const name = state.project?.name || state.projectId;
  $("#who-name").textContent = name;
  $("#who-id").textContent = state.projectId;
  $("#settings-title").textContent = name;
  document.title = `${name} · Project settings · BYOK`;
  show($("#signin"), false);
  show($("#who"), true);
  show($("#settings"), true);
  await Promise.all([loadProviders(), loadApiKeys(), loadKeys()]);
  if (state.keys.length) renderKeys(); // provider labels, should the keys have arrived first
}

// ---------------------------------------------------------------------------------------------
// Project access: the project's API keys

async function loadApiKeys() {
  try {
    state.apiKeys = await authed("GET", projectPath("/api-keys"));
    setText($("#access-error"), "");
  } catch (err) {
    if (!err.handled) setText($("#access-error"), `The API keys could not be loaded. ${plainError(err)}`);
    return;
  }
  renderApiKeys();
}

function renderApiKeys(flashId = null) {
  const rows = state.apiKeys.map((key) => {
    const name = key.label || key.id;
    const revoke = h(
      "button",
      {
        type: "button",
        class: "btn btn-small btn-ghost btn-danger-text",
        "data-action": "revoke",
        "data-ref": key.id,
        "aria-label": `Revoke ${name}`,
      },
      "Revoke",
    );
    revoke.addEventListener("click", () => confirmRevoke(key, revoke));
    return h(
      "tr",
      { "data-id": key.id, class: key.id === flashId ? "flash" : null },
      cell("Label", {}, key.label ? h("span", { class: "strong" }, key.label) : h("span", { class: "muted" }, "No label")),
      cell("Key id", {}, h("code", { class: "mono small" }, key.id)),
      cell("Created", {}, timeEl(key.created_at)),
      cell("Last used", {}, timeEl(key.last_used_at)),
      h("td", { class: "col-actions" }, h("div", { class: "row-actions" }, revoke)),
    );
  });
  replaceRows($("#api-keys"), rows);
}

function confirmRevoke(key, opener) {
  const name = key.label ? `“${key.label}”` : "this key";
  openConfirm({
    opener,
    title: `Revoke API key ${key.label ? `“${key.label}”` : key.id}?`,
    text: `Every client using ${name} (${key.id}) loses access at once. If it is the key you signed in with, you will be signed out.`,
    ok: "Revoke key",
    action: async () => {
      await authed("DELETE", projectPath(`/api-keys/${encodeURIComponent(key.id)}`));
      toast(`API key ${key.label ? `“${key.label}”` : key.id} revoked.`);
      await loadApiKeys();
    },
    errorText: (err) =>
      err.status === 409
        ? "A project keeps at least one API key. Create another key before revoking this one."
        : plainError(err),
  });
}

function openCreateApiKey(opener) {
  const dialog = $("#apikey-dialog");
  $("#apikey-label").value = "";
  setText($("#apikey-error"), "");
  show($("#apikey-ask"), true);
  show($("#apikey-shown"), false);
  show($("#apikey-submit"), true);
  show($("#apikey-cancel"), true);
  show($("#apikey-done"), false);
  $("#apikey-title").textContent = "Create API key";
  openDialog(dialog, opener, $("#apikey-label"));
}

async function onCreateApiKeySubmit(event) {
  event.preventDefault();
  const dialog = $("#apikey-dialog");
  if (dialog.dataset.busy === "true") return;
  const label = $("#apikey-label").value.trim();
  setText($("#apikey-error"), "");
  const button = $("#apikey-submit");
  dialog.dataset.busy = "true";
  setBusyButton(button, true);
  let created;
  try {
    created = await authed("POST", projectPath("/api-keys"), label ? { label } : {});
  } catch (err) {
    if (!err.handled) setText($("#apikey-error"), plainError(err));
    return;
  } finally {
    dialog.dataset.busy = "";
    setBusyButton(button, false);
  }
  $("#apikey-title").textContent = "Your new API key";
  show($("#apikey-ask"), false);
  show($("#apikey-shown"), true);
  show($("#apikey-submit"), false);
  show($("#apikey-cancel"), false);
  show($("#apikey-done"), true);
  const value = $("#apikey-value");
  value.value = created.api_key;
  $("#apikey-copied").textContent = "";
  value.focus();
  value.select();
  state.apiKeys = [...state.apiKeys.filter((k) => k.id !== created.id), {
    id: created.id,
    label: created.label,
    created_at: created.created_at,
    last_used_at: created.last_used_at,
  }];
  renderApiKeys(created.id);
}

async function copyNewApiKey() {
  const input = $("#apikey-value");
  let copied = false;
  try {
    await navigator.clipboard.writeText(input.value);
    copied = true;
  } catch {
    input.select();
    try {
      copied = document.execCommand("copy");
    } catch {
      copied = false;
    }
  }
  $("#apikey-copied").textContent = copied
    ? "Copied to the clipboard."
    : "Copying is blocked here: select the key and copy it yourself.";
}

// ---------------------------------------------------------------------------------------------
// BYOK: provider keys

async function loadProviders() {
  if (state.providers.length) return;
  try {
    state.providers = await api("GET", "/v1/providers");
    state.providerByName = new Map(state.providers.map((p) => [p.provider, p]));
    $("#add-key").disabled = false;
  } catch (err) {
    $("#add-key").disabled = true;
    setText($("#byok-error"), `The list of providers could not be loaded. ${plainError(err)}`);
  }
}

async function loadKeys() {
  try {
    state.keys = await authed("GET", keyPath());
  } catch (err) {
    if (!err.handled) setText($("#byok-error"), `The keys could not be loaded. ${plainError(err)}`);
    return;
  }
  renderKeys();
  loadUsage();
}

async function loadUsage() {
  // The usage route arrives with the routing work; until it answers 200 the column stays hidden.
  let usage = null;
  try {
    const data = await api("GET", projectPath("/usage"));
    if (data && Array.isArray(data.by_key)) {
      usage = new Map();
      for (const row of data.by_key) {
        if (!row.key_slug) continue;
        const sum = usage.get(row.key_slug) || { requests: 0, errors: 0, input_tokens: 0, output_tokens: 0 };
        for (const field of Object.keys(sum)) sum[field] += Number(row[field]) || 0;
        usage.set(row.key_slug, sum);
      }
    }
  } catch {
    usage = null;
  }
  state.usage = usage;
  renderKeys();
}

function providerLabel(name) {
  return state.providerByName.get(name)?.label || name;
}

/** The catalogue's label, with a parenthetical kept for the tooltip: "Google AI Studio". */
function providerCell(name) {
  const label = providerLabel(name);
  const short = label.replace(/\s*\([^)]*\)\s*$/, "");
  return short === label ? label : h("span", { title: label }, short);
}

function whereCell(key) {
  if (key.provider === "vertex") {
    return [
      key.account ? h("div", { class: "mono small wrap" }, key.account) : h("div", { class: "muted" }, "Service account"),
      h("div", { class: "sub" }, `Region ${key.location || "global"}`),
    ];
  }
  if (key.base_url) {
    return [
      h("div", { class: "mono small wrap" }, key.base_url),
      key.api_version ? h("div", { class: "sub" }, `API version ${key.api_version}`) : null,
    ];
  }
  return h("span", { class: "muted" }, "Provider default");
}

function statusCell(key) {
  if (key.status === "verified") return h("span", { class: "badge badge-ok" }, "Verified");
  if (key.status === "failing") {
    const reason = key.last_error?.reason;
    const message = key.last_error?.message;
    const plain = reasonText(reason) || (message ? capitalize(message) : "The last check failed.");
    return [
      h("span", { class: "badge badge-bad", title: message || plain }, "Failing"),
      h("div", { class: "reason", title: message || null }, plain),
    ];
  }
  return h("span", { class: "badge" }, capitalize(String(key.status)));
}

function usageCell(key) {
  const totals = state.usage?.get(key.key_slug);
  if (!totals || !totals.requests) return h("span", { class: "muted" }, "No requests");
  const tokens = totals.input_tokens + totals.output_tokens;
  return [
    h("div", {}, `${numberFormat.format(totals.requests)} request${totals.requests === 1 ? "" : "s"}`),
    h(
      "div",
      { class: "sub" },
      `${numberFormat.format(tokens)} tokens`,
      totals.errors ? ` · ${numberFormat.format(totals.errors)} failed` : "",
    ),
  ];
}

function keyRow(key, flashSlug) {
  const slug = key.key_slug;
  const actions = [
    ["reverify", "Re-verify", "btn btn-small btn-ghost", () => reverifyKey(slug)],
    ["replace", "Replace", "btn btn-small btn-ghost", (event) => openKeyDialog("replace", event.currentTarget, key)],
    ["delete", "Delete", "btn btn-small btn-ghost btn-danger-text", (event) => confirmDeleteKey(key, event.currentTarget)],
  ].map(([action, label, cls, handler]) => {
    const button = h(
      "button",
      { type: "button", class: cls, "data-action": action, "data-ref": slug, "aria-label": `${label} ${slug}` },
      h("span", { class: "spinner", "aria-hidden": "true" }),
      h("span", { class: "btn-label" }, label),
    );
    button.addEventListener("click", handler);
    return button;
  });
  return h(
    "tr",
    { "data-slug": slug, "data-status": key.status, class: slug === flashSlug ? "flash" : null },
    cell(
      "Key name",
      {},
      h("div", { class: "slug" }, slug),
      key.default_model ? h("div", { class: "sub" }, "Model ", h("code", {}, key.default_model)) : null,
    ),
    cell("Provider", {}, providerCell(key.provider)),
    cell("Account / endpoint", { class: "col-where" }, whereCell(key)),
    cell("Fingerprint", {}, h("code", { class: "fp" }, key.fingerprint)),
    cell("Status", { class: "col-status" }, statusCell(key)),
    cell("Last verified", {}, timeEl(key.verified_at)),
    cell("Last used", {}, timeEl(key.last_used_at)),
    cell("Usage", { "data-col": "usage" }, usageCell(key)),
    h("td", { class: "col-actions" }, h("div", { class: "row-actions" }, actions)),
  );
}

/** Replace a table body's rows, keeping keyboard focus on the same row action if it had it. */
function replaceRows(tbody, rows) {
  const active = document.activeElement;
  const kept = tbody.contains(active) ? { action: active.dataset.action, ref: active.dataset.ref } : null;
  tbody.replaceChildren(...rows);
  if (kept?.action) {
    tbody.querySelector(`[data-action="${kept.action}"][data-ref="${CSS.escape(kept.ref || "")}"]`)?.focus();
  }
}

function renderKeys(flashSlug = null) {
  const table = $("#keys-table");
  table.classList.toggle("no-usage", !state.usage);
  replaceRows($("#keys"), state.keys.map((key) => keyRow(key, flashSlug)));
  show(table, state.keys.length > 0);
  show($("#keys-empty"), state.keys.length === 0);
}

function upsertKey(view) {
  const index = state.keys.findIndex((k) => k.key_slug === view.key_slug);
  if (index >= 0) state.keys[index] = view;
  else state.keys.push(view);
}

async function reverifyKey(slug) {
  const button = () => document.querySelector(`[data-action="reverify"][data-ref="${CSS.escape(slug)}"]`);
  const start = button();
  if (!start || start.disabled) return;
  const hadFocus = document.activeElement === start; // disabling the button takes its focus away
  setBusyButton(start, true);
  start.querySelector(".btn-label").textContent = "Checking…";
  toast(`Checking “${slug}” with the provider…`, "info");
  let view;
  try {
    view = await authed("POST", `${keyPath(slug)}/verify`);
  } catch (err) {
    if (err.handled) return;
    const current = button();
    if (current) {
      setBusyButton(current, false);
      current.querySelector(".btn-label").textContent = "Re-verify";
      if (hadFocus) current.focus();
    }
    if (err.status === 404) {
      state.keys = state.keys.filter((k) => k.key_slug !== slug);
      renderKeys();
      toast(`The key “${slug}” no longer exists.`, "error");
    } else {
      toast(`“${slug}” could not be checked. ${plainError(err)}`, "error");
    }
    return;
  }
  upsertKey(view);
  renderKeys();
  if (hadFocus) button()?.focus();
  if (view.status === "verified") toast(`“${slug}” is verified: the provider accepted it.`);
  else toast(`“${slug}” is failing. ${reasonText(view.last_error?.reason) || ""}`.trim(), "error");
}

function confirmDeleteKey(key, opener) {
  openConfirm({
    opener,
    title: `Delete key “${key.key_slug}”?`,
    text: `Sessions and web tasks that name “${key.key_slug}” will stop working. The encrypted ${providerLabel(key.provider)} key is erased; this cannot be undone.`,
    ok: "Delete key",
    action: async () => {
      try {
        await authed("DELETE", keyPath(key.key_slug));
      } catch (err) {
        if (err.status !== 404) throw err; // already gone: the outcome the user asked for
      }
      state.keys = state.keys.filter((k) => k.key_slug !== key.key_slug);
      renderKeys();
      toast(`Key “${key.key_slug}” deleted.`);
    },
  });
}

// ---------------------------------------------------------------------------------------------
// The key dialog: Add key and Replace

const keyForm = { mode: "add", key: null };

function slugProblem(slug) {
  if (!slug) return "Enter a key name.";
  if (slug.length > SLUG_MAX) return `At most ${SLUG_MAX} characters (this one has ${slug.length}).`;
  if (/[A-Z]/.test(slug)) return "Use lowercase letters only.";
  if (/[^a-z0-9-]/.test(slug)) return "Only lowercase letters, digits and hyphens are allowed.";
  if (!SLUG_RE.test(slug)) return "The name must start and end with a letter or digit.";
  if (state.keys.some((k) => k.key_slug === slug)) return "A key with this name already exists.";
  return null;
}

function fieldError(name, message) {
  const input = $(`#kf-${name}`);
  const slot = $(`#kf-${name}-error`);
  if (slot) setText(slot, message);
  if (input) {
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
  return Boolean(input && slot);
}

function clearKeyFormErrors() {
  setText($("#key-form-error"), "");
  for (const slot of $("#key-form").querySelectorAll(".field-error")) setText(slot, "");
  for (const input of $("#key-form").querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
}

/** Read a service-account JSON locally: its client_email is shown back before saving. */
function parseServiceAccount(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return { error: "This is not valid JSON. Paste the whole key file, from { to }." };
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    return { error: "This is not a JSON object. Paste the whole key file." };
  }
  if (value.type !== "service_account") {
    return { error: `This is not a service-account key (its type is “${String(value.type ?? "missing")}”).` };
  }
  for (const name of ["client_email", "private_key", "project_id"]) {
    if (typeof value[name] !== "string" || !value[name]) return { error: `The key file is missing ${name}.` };
  }
  return { email: value.client_email, project: value.project_id };
}

function previewServiceAccount(textarea) {
  const preview = $(`#${textarea.id}-preview`);
  const text = textarea.value.trim();
  preview.replaceChildren();
  preview.className = "sa-preview";
  if (!text) return;
  const parsed = parseServiceAccount(text);
  if (parsed.error) {
    preview.classList.add("is-bad");
    preview.append(parsed.error);
    return;
  }
  preview.classList.add("is-ok");
  preview.append(
    "Service account ",
    h("strong", { class: "mono", "data-client-email": "" }, parsed.email),
    ` in project ${parsed.project}`,
  );
}

async function loadServiceAccountFile(fileInput, textarea) {
  const file = fileInput.files?.[0];
  if (!file) return;
  if (file.size > SA_FILE_MAX_BYTES) {
    fieldError(textarea.name, "This file is too large to be a service-account key.");
    fileInput.value = "";
    return;
  }
  textarea.value = await file.text();
  fileInput.value = "";
  fieldError(textarea.name, "");
  previewServiceAccount(textarea);
}

function fieldHint(spec, field, mode) {
  const parts = [field.help ? sentence(field.help) : ""];
  if (field.kind === "secret" && mode === "replace") {
    parts.push("Enter the key again: the stored one is never shown.");
  } else if (field.kind === "json") {
    parts.push(
      mode === "replace"
        ? "Paste it again: the stored one is never shown."
        : "It is read here only to show its account; the key is sent once, to be checked and encrypted.",
    );
  } else if (field.name === "default_model" && spec.verify_model) {
    parts.push(`Without one, the check uses ${spec.verify_model}.`);
  }
  return parts.filter(Boolean).join(" ");
}

function buildField(spec, field, mode, key) {
  const id = `kf-${field.name}`;
  const hintText = fieldHint(spec, field, mode);
  const describedBy = [`${id}-error`, hintText ? `${id}-hint` : null].filter(Boolean).join(" ");
  const label = h("label", { for: id }, field.label, field.required ? null : h("span", { class: "optional" }, " (optional)"));
  const common = {
    id,
    name: field.name,
    spellcheck: "false",
    autocomplete: "off",
    autocapitalize: "off",
    "aria-describedby": describedBy,
    "aria-required": field.required ? "true" : null,
  };
  const parts = [label];
  let control;
  if (field.kind === "json") {
    control = h("textarea", { ...common, rows: 6, class: "mono", placeholder: '{"type": "service_account", "project_id": …}' });
    control.addEventListener("input", () => previewServiceAccount(control));
    const file = h("input", { type: "file", id: `${id}-file`, accept: ".json,application/json" });
    file.addEventListener("change", () => loadServiceAccountFile(file, control));
    parts.push(
      control,
      h("div", { class: "file-row" }, h("label", { for: `${id}-file` }, "Or choose the key file"), file),
      h("p", { id: `${id}-preview`, class: "sa-preview", "aria-live": "polite" }),
    );
  } else {
    const type = field.kind === "secret" ? "password" : field.kind === "url" ? "url" : "text";
    let placeholder = null;
    if (field.kind === "url") placeholder = field.help?.startsWith("https://") ? field.help : "https://host/v1";
    else if (field.name === "default_model" && spec.example_models.length) placeholder = `e.g. ${spec.example_models[0]}`;
    else if (field.name === "api_version") placeholder = "e.g. 2024-10-21";
    else if (field.default) placeholder = field.default;
    control = h("input", {
      ...common,
      type,
      placeholder,
      "data-lpignore": field.kind === "secret" ? "true" : null,
      "data-1p-ignore": field.kind === "secret" ? "true" : null,
      list: field.name === "default_model" && spec.example_models.length ? "kf-models" : null,
    });
    if (type === "url") control.setAttribute("inputmode", "url");
    parts.push(control);
    if (field.name === "default_model" && spec.example_models.length) {
      parts.push(h("datalist", { id: "kf-models" }, spec.example_models.map((m) => h("option", { value: m }))));
    }
    // Replace: the key's non-secret settings are filled in; the secret never is.
    if (mode === "replace" && key && field.kind !== "secret" && key[field.name]) control.value = key[field.name];
  }
  parts.push(h("p", { class: "field-error", id: `${id}-error`, hidden: true }));
  if (hintText) parts.push(h("p", { class: "hint", id: `${id}-hint` }, hintText));
  return h("div", { class: "field", "data-field": field.name, "data-kind": field.kind }, parts);
}

function renderProviderFields() {
  const spec = state.providerByName.get($("#kf-provider").value);
  const box = $("#kf-fields");
  box.replaceChildren();
  if (!spec) return;
  for (const field of spec.fields) box.append(buildField(spec, field, keyForm.mode, keyForm.key));
}

function openKeyDialog(mode, opener, key = null) {
  if (!state.providers.length) return;
  keyForm.mode = mode;
  keyForm.key = key;
  const dialog = $("#key-dialog");
  const select = $("#kf-provider");
  const slug = $("#kf-key_slug");
  select.replaceChildren(...state.providers.map((p) => h("option", { value: p.provider }, p.label)));
  clearKeyFormErrors();
  $("#key-form-status").textContent = "";
  if (mode === "replace") {
    $("#key-dialog-title").textContent = `Replace key “${key.key_slug}”`;
    $("#key-dialog-intro").textContent =
      "Enter the key again with any changes. It is checked with the provider first; if the check fails, the stored key stays exactly as it is.";
    select.value = key.provider;
    select.disabled = true;
    slug.value = key.key_slug;
    slug.readOnly = true;
  } else {
    $("#key-dialog-title").textContent = "Add key";
    $("#key-dialog-intro").textContent =
      "The key is checked with the provider (one tiny request) before anything is stored.";
    select.value = state.providers[0].provider;
    select.disabled = false;
    slug.value = "";
    slug.readOnly = false;
  }
  renderProviderFields();
  const first = mode === "replace" ? $("#kf-fields input, #kf-fields textarea") : select;
  openDialog(dialog, opener, first);
}

/** The request body from the form, or null (with the problems shown) when it cannot be sent. */
function collectKeyBody() {
  const spec = state.providerByName.get($("#kf-provider").value);
  const body = { provider: spec.provider };
  let valid = true;
  if (keyForm.mode === "add") {
    const slug = $("#kf-key_slug").value.trim();
    const problem = slugProblem(slug);
    if (problem) {
      fieldError("key_slug", problem);
      valid = false;
    }
    body.key_slug = slug;
  }
  for (const field of spec.fields) {
    const input = $(`#kf-${field.name}`);
    const value = input.value.trim();
    if (!value) {
      if (field.required) {
        fieldError(field.name, `${field.label} is required.`);
        valid = false;
      }
      continue;
    }
    if (field.kind === "json") {
      const parsed = parseServiceAccount(value);
      if (parsed.error) {
        fieldError(field.name, parsed.error);
        valid = false;
        continue;
      }
    }
    body[field.name] = value;
  }
  return valid ? body : null;
}

/** Wipe every secret the key form holds: password inputs, the service-account JSON, the file. */
function clearKeySecrets() {
  for (const el of $("#kf-fields").querySelectorAll('input[type="password"], textarea, input[type="file"]')) {
    el.value = "";
  }
  for (const el of $("#kf-fields").querySelectorAll(".sa-preview")) el.replaceChildren();
}

function setKeyFormBusy(busy, text = "") {
  const dialog = $("#key-dialog");
  dialog.dataset.busy = busy ? "true" : "";
  $("#key-fieldset").disabled = busy;
  $("#key-form").setAttribute("aria-busy", busy ? "true" : "false");
  for (const b of dialog.querySelectorAll("[data-close]")) b.disabled = busy;
  setBusyButton($("#kf-submit"), busy);
  $("#kf-submit .btn-label").textContent = busy ? "Checking…" : "Verify & save";
  $("#key-form-status").textContent = text;
}

function focusFirstInvalid() {
  $("#key-form [aria-invalid='true']")?.focus();
}

function showKeyError(err) {
  const replacing = keyForm.mode === "replace";
  const unchanged = replacing ? " The stored key is unchanged." : " Nothing was saved.";
  if (err.type === "verification_failed") {
    const reason = err.details?.reason;
    const plain = reasonText(reason, err.retryAfter) || capitalize(err.message);
    setText($("#key-form-error"), plain + unchanged);
    // Focus where the fix most likely goes (the alert is announced either way).
    const target = {
      invalid_credentials: "#kf-fields [data-kind='secret'] input, #kf-fields textarea",
      permission_denied: "#kf-fields [data-kind='secret'] input, #kf-fields textarea",
      quota_exceeded: "#kf-fields [data-kind='secret'] input, #kf-fields textarea",
      model_not_found: "#kf-default_model",
      endpoint_not_allowed: "#kf-base_url",
      endpoint_unreachable: "#kf-base_url",
      invalid_response: "#kf-base_url",
    }[reason];
    ((target && $(target)) || $("#kf-submit")).focus();
    return;
  }
  if (err.status === 409) {
    fieldError("key_slug", "A key with this name already exists.");
    setText($("#key-form-error"), "A key with this name already exists." + unchanged);
    focusFirstInvalid();
    return;
  }
  if (err.status === 404 && replacing) {
    setText($("#key-form-error"), "This key no longer exists: it may have been deleted elsewhere.");
    return;
  }
  if (err.status === 422 && Array.isArray(err.details)) {
    const spec = state.providerByName.get($("#kf-provider").value);
    const leftovers = [];
    for (const item of err.details) {
      const name = [...(item.loc || [])].reverse().find((part) => typeof part === "string" && part !== "body");
      const field = spec.fields.find((f) => f.name === name);
      const label = field?.label || (name === "key_slug" ? "Key name" : name);
      let message = String(item.msg || "is not valid").replace(/^Value error, /, "");
      if (/pattern|match/i.test(message) && FIELD_RULES[name]) message = FIELD_RULES[name];
      else if (/^Field required$/i.test(message) || /^is required/.test(message)) message = `${label} is required.`;
      else if (/^(is|must|has) /.test(message)) message = `${label} ${message}.`;
      else message = capitalize(message.endsWith(".") ? message : `${message}.`);
      if (!fieldError(name, message)) leftovers.push(message);
    }
    setText(
      $("#key-form-error"),
      (leftovers.length ? leftovers.join(" ") : "Some fields need attention.") + unchanged,
    );
    focusFirstInvalid();
    return;
  }
  setText($("#key-form-error"), plainError(err) + unchanged);
}

async function onKeyFormSubmit(event) {
  event.preventDefault();
  const dialog = $("#key-dialog");
  if (dialog.dataset.busy === "true") return;
  clearKeyFormErrors();
  const body = collectKeyBody();
  if (!body) {
    setText($("#key-form-error"), "Some fields need attention.");
    focusFirstInvalid();
    return;
  }
  const replacing = keyForm.mode === "replace";
  const slug = replacing ? keyForm.key.key_slug : body.key_slug;
  const label = providerLabel(body.provider);
  setKeyFormBusy(true, `Checking the key with ${label}…`);
  let view;
  try {
    view = replacing
      ? await authed("PUT", keyPath(slug), body)
      : await authed("POST", keyPath(), body);
  } catch (err) {
    setKeyFormBusy(false);
    if (err.handled) return;
    showKeyError(err);
    return;
  }
  clearKeySecrets();
  setKeyFormBusy(false);
  upsertKey(view);
  renderKeys(view.key_slug);
  if (dialog.open) dialog.close();
  toast(replacing ? `Key “${slug}” replaced and verified.` : `Key “${slug}” verified and saved.`);
  loadUsage();
}

function onKeyDialogClose() {
  // Whatever the outcome, nothing typed into the form outlives the dialog.
  clearKeySecrets();
  $("#kf-fields").replaceChildren();
  $("#kf-key_slug").value = "";
  clearKeyFormErrors();
  setKeyFormBusy(false);
  keyForm.key = null;
}

// ---------------------------------------------------------------------------------------------
// Dialogs: focus moves in on open and back to the opener on close; Escape closes (unless busy)

const openers = new WeakMap();

function openDialog(dialog, opener, focusTarget) {
  openers.set(dialog, opener ? { el: opener, action: opener.dataset.action, ref: opener.dataset.ref } : null);
  dialog.showModal();
  (focusTarget || dialog.querySelector("input, select, textarea, button"))?.focus();
}

function wireDialog(dialog, fallback, onClose) {
  dialog.addEventListener("cancel", (event) => {
    if (dialog.dataset.busy === "true") event.preventDefault();
  });
  for (const button of dialog.querySelectorAll("[data-close]")) {
    button.addEventListener("click", () => {
      if (dialog.dataset.busy !== "true") dialog.close();
    });
  }
  dialog.addEventListener("close", () => {
    onClose?.();
    const opener = openers.get(dialog);
    openers.delete(dialog);
    let target = opener?.el;
    if (!target?.isConnected && opener?.action) {
      target = document.querySelector(`[data-action="${opener.action}"][data-ref="${CSS.escape(opener.ref || "")}"]`);
    }
    if (!target?.isConnected || target.closest("[hidden]")) target = fallback();
    target?.focus();
  });
}

let confirmAction = null;

function openConfirm({ opener, title, text, ok, action, errorText = plainError }) {
  confirmAction = { action, errorText };
  $("#confirm-title").textContent = title;
  $("#confirm-text").textContent = text;
  $("#confirm-ok .btn-label").textContent = ok;
  setText($("#confirm-error"), "");
  show($("#confirm-ok"), true);
  openDialog($("#confirm-dialog"), opener, $("#confirm-cancel"));
}

async function onConfirmSubmit(event) {
  event.preventDefault();
  const dialog = $("#confirm-dialog");
  if (!confirmAction || dialog.dataset.busy === "true") return;
  const { action, errorText } = confirmAction;
  const button = $("#confirm-ok");
  setText($("#confirm-error"), "");
  dialog.dataset.busy = "true";
  setBusyButton(button, true);
  try {
    await action();
  } catch (err) {
    if (!err.handled) {
      setText($("#confirm-error"), errorText(err));
      $("#confirm-cancel").focus();
    }
    return;
  } finally {
    dialog.dataset.busy = "";
    setBusyButton(button, false);
  }
  if (dialog.open) dialog.close();
}

// ---------------------------------------------------------------------------------------------
// Start

function wire() {
  $("#signin-form").addEventListener("submit", onSignInSubmit);
  $("#sign-out").addEventListener("click", () => signOut());
  $("#add-key").addEventListener("click", (event) => openKeyDialog("add", event.currentTarget));
  $("#create-api-key").addEventListener("click", (event) => openCreateApiKey(event.currentTarget));
  $("#key-form").addEventListener("submit", onKeyFormSubmit);
  $("#confirm-form").addEventListener("submit", onConfirmSubmit);
  $("#apikey-form").addEventListener("submit", onCreateApiKeySubmit);
  $("#apikey-copy").addEventListener("click", copyNewApiKey);
  $("#kf-provider").addEventListener("change", () => {
    clearKeyFormErrors();
    renderProviderFields();
  });
  $("#kf-key_slug").addEventListener("input", (event) => {
    if (keyForm.mode !== "add") return;
    const slug = event.currentTarget.value.trim();
    fieldError("key_slug", slug ? slugProblem(slug) || "" : "");
  });
  wireDialog($("#key-dialog"), () => $("#add-key"), onKeyDialogClose);
  wireDialog($("#confirm-dialog"), () => $("#add-key"), () => {
    confirmAction = null;
  });
  wireDialog($("#apikey-dialog"), () => $("#create-api-key"), () => {
    $("#apikey-value").value = ""; // the new key is shown once, then gone from the page
    $("#apikey-copied").textContent = "";
  });
  setInterval(refreshTimes, 30_000);
}

async function start() {
  wire();
  const saved = loadSession();
  if (!saved) {
    signOut();
    return;
  }
  try {
    await signIn(saved.projectId, saved.apiKey);
  } catch (err) {
    state.lastProjectId = saved.projectId;
    signOut(err instanceof ApiError && err.status === 401
      ? "Your API key is no longer accepted. Sign in again."
      : signInError(err));
    return;
  }
  await enterSettings();
}

start();
