// The security console: a tenant's live events (server-sent events) and an overview of the watched tenants, both read
// from the silo's /security/api. Everything from the server is shown with textContent: event fields are the agents'.
"use strict";

const maxRows = 200;
const overviewEveryMs = 2000;
const denialTypes = new Set(["check.denied", "quota.exceeded", "tool.denied", "sandbox.violation", "grant.refused", "execution.failed"]);

let tenants = [];
let source = null;
let overviewTimer = null;

const $ = (selector) => document.querySelector(selector);

function cell(row, text, className) {
  const td = row.insertCell();
  td.textContent = text ?? "";
  if (className) td.className = className;
  return td;
}

function clock(date) {
  return date.toISOString().slice(11, 23);
}

function tenantsFromUrl() {
  const params = new URLSearchParams(location.search);
  return [...new Set(params.getAll("tenant").flatMap((t) => t.split(",")).map((t) => t.trim()).filter(Boolean))];
}

function setStreamState(state, title) {
  const badge = $("#stream-state");
  badge.dataset.state = state;
  badge.textContent = state;
  badge.title = title ?? "";
}

function openStream(tenant) {
  if (source) source.close();
  source = null;
  $("#events").replaceChildren();
  $("#events-empty").hidden = false;
  if (!tenant) {
    setStreamState("closed", "no tenant chosen");
    return;
  }

  setStreamState("connecting");
  source = new EventSource("/security/api/tenants/" + encodeURIComponent(tenant) + "/events");
  source.onopen = () => setStreamState("open", "subscribed to " + tenant + "'s log");
  source.onerror = () => setStreamState(source && source.readyState === EventSource.CLOSED ? "closed" : "connecting", "reconnecting");
  source.onmessage = (message) => addEvent(message.lastEventId, JSON.parse(message.data));
  source.addEventListener("end", (message) => {
    const end = JSON.parse(message.data);
    setStreamState("connecting", end.error + ": " + end.message);
  });
}

function addEvent(sequence, e) {
  const body = $("#events");
  const row = body.insertRow(0);
  const received = new Date();
  row.className = "new" + (denialTypes.has(e.type) ? " deny" : "");
  row.dataset.received = String(received.getTime());
  row.dataset.sequence = sequence;
  row.dataset.type = e.type;
  if (e.resource) row.dataset.resource = e.resource;
  cell(row, clock(received));
  cell(row, sequence);
  cell(row, e.time ? e.time.slice(11, 23) : "");
  cell(row, e.type);
  cell(row, e.agent);
  cell(row, e.capability ?? (e.server ? e.server + "/" + e.tool : ""));
  cell(row, e.resource);
  cell(row, e.reason).title = e.message ?? "";
  $("#events-empty").hidden = true;
  while (body.rows.length > maxRows) body.deleteRow(-1);
}

function spark(perMinute) {
  const box = document.createElement("div");
  box.className = "spark";
  const top = Math.max(1, ...perMinute);
  perMinute.forEach((count, i) => {
    const bar = document.createElement("span");
    bar.style.height = Math.round((count / top) * 100) + "%";
    bar.title = (perMinute.length - 1 - i) + " min ago: " + count;
    box.append(bar);
  });
  return box;
}

function meter(used, value) {
  const box = document.createElement("div");
  box.className = "meter";
  const bar = document.createElement("span");
  const share = value > 0 ? Math.min(1, used / value) : 0;
  bar.style.width = Math.round(share * 100) + "%";
  if (share >= 0.8) bar.className = "high";
  box.append(bar);
  return box;
}

function period(seconds) {
  return seconds >= 86400 ? "day" : seconds >= 3600 ? "hour" : seconds >= 60 ? "minute" : "second";
}

function fill(section, rows, empty) {
  const body = $(section + " tbody");
  body.replaceChildren();
  if (rows.length === 0) {
    const row = body.insertRow();
    const td = cell(row, empty, "muted");
    td.colSpan = $(section + " thead tr").cells.length;
  }
  rows.forEach((fillRow) => fillRow(body.insertRow()));
}

function showOverview(overview) {
  $("#window").textContent = overview.windowMinutes;
  $("#silo").textContent = overview.silo;
  const denials = [], quarantined = [], budget = [], executions = [], verify = [];
  for (const t of overview.tenants) {
    const problem = !t.exists ? "no such tenant" : t.error;
    if (problem) {
      verify.push((row) => { cell(row, t.tenant); cell(row, ""); cell(row, problem, "bad"); });
      continue;
    }
    for (const d of t.denials) {
      denials.push((row) => { cell(row, t.tenant); cell(row, d.capability); cell(row, d.total, "bad"); row.insertCell().append(spark(d.perMinute)); });
    }
    for (const q of t.quarantined) {
      quarantined.push((row) => { cell(row, t.tenant); cell(row, q.agent, "bad"); cell(row, q.reason, "wrap"); });
    }
    for (const b of t.budget) {
      budget.push((row) => { cell(row, t.tenant); cell(row, b.limit); cell(row, b.used + " / " + b.value + " per " + period(b.periodSeconds)); row.insertCell().append(meter(b.used, b.value)); });
    }
    executions.push((row) => { cell(row, t.tenant); cell(row, t.executionsRunning); });
    const v = t.lastVerify;
    verify.push((row) => {
      cell(row, t.tenant);
      cell(row, t.lastSequence + " records");
      if (!v) { cell(row, "not verified since its log activated", "muted"); return; }
      cell(row, v.valid ? "valid" : "INVALID", v.valid ? "good" : "bad");
      cell(row, v.records);
      cell(row, v.checkpoints);
      cell(row, new Date(v.at).toLocaleString());
      cell(row, v.problem ?? (v.firstBadSequence ? "first bad record " + v.firstBadSequence : ""), "wrap");
    });
  }
  fill("#denials", denials, "no denial");
  fill("#quarantined", quarantined, "no agent quarantined");
  fill("#budget", budget, "no tenant-wide limit");
  fill("#executions", executions, "no tenant watched");
  fill("#verify", verify, "no tenant watched");
  $("#overview-state").textContent = "updated " + new Date(overview.at).toLocaleTimeString();
}

async function refreshOverview() {
  if (tenants.length === 0) {
    $("#overview-state").textContent = "name a tenant to watch";
    return;
  }
  const query = tenants.map((t) => "tenant=" + encodeURIComponent(t)).join("&");
  try {
    const response = await fetch("/security/api/overview?" + query, { cache: "no-store" });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      $("#overview-state").textContent = "overview refused: " + (body.error ?? response.status) + (body.message ? " (" + body.message + ")" : "");
      return;
    }
    showOverview(await response.json());
  } catch (error) {
    $("#overview-state").textContent = "overview unavailable: " + error.message;
  }
}

function watch(list) {
  tenants = list;
  $("#tenants").value = tenants.join(", ");
  const select = $("#live-tenant");
  const chosen = tenants.includes(select.value) ? select.value : tenants[0];
  select.replaceChildren(...tenants.map((t) => new Option(t, t, false, t === chosen)));
  openStream(chosen);
  clearInterval(overviewTimer);
  refreshOverview();
  overviewTimer = setInterval(refreshOverview, overviewEveryMs);
}

document.addEventListener("DOMContentLoaded", () => {
  $("#tenants-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const list = [...new Set($("#tenants").value.split(",").map((t) => t.trim()).filter(Boolean))];
    const url = new URL(location.href);
    url.searchParams.delete("tenant");
    list.forEach((t) => url.searchParams.append("tenant", t));
    history.replaceState(null, "", url);
    watch(list);
  });
  $("#live-tenant").addEventListener("change", (event) => openStream(event.target.value));
  watch(tenantsFromUrl());
});
