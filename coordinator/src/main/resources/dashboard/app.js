// The consortium dashboard: one EventSource on /api/v1/events (snapshots pushed by the coordinator),
// tables and hand-drawn SVG charts. No framework, no build step. window.consortDashboard exposes what
// the page has shown, for the end-to-end test that drives it in Chromium.
"use strict";
(function () {
  const COLOURS = ["#175cd3", "#12805c", "#b54708", "#6941c6", "#c11574", "#027a48", "#b42318", "#344054"];
  const SVG = "http://www.w3.org/2000/svg";
  let selected = null;       // the job the user picked, or null for the running/last one
  let last = null;           // the last snapshot
  const seen = [];           // [{job, rounds, state}] each time the shown job's rounds or state changed

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, text) => {
    const e = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => e.setAttribute(k, v));
    if (text !== undefined) e.textContent = text;
    return e;
  };
  const svgEl = (tag, attrs) => {
    const e = document.createElementNS(SVG, tag);
    Object.entries(attrs).forEach(([k, v]) => e.setAttribute(k, v));
    return e;
  };
  const fmt = (x, d) => (x === null || x === undefined || Number.isNaN(x)) ? "–" : Number(x).toFixed(d);

  function badge(node, text) {
    node.textContent = text || "";
    node.className = "badge " + (text || "").split(/[ :]/)[0];
  }

  function fillRows(table, rows) {
    const body = table.tBodies[0];
    body.replaceChildren(...rows);
  }

  function renderJobs(jobs, shownId) {
    fillRows($("jobs"), jobs.map((j) => {
      const tr = el("tr", { "data-job": j.job_id });
      if (j.job_id === shownId) tr.className = "selected";
      const state = el("td");
      const b = el("span", { class: "badge " + j.state }, j.state);
      state.append(b);
      tr.append(el("td", {}, j.job_id), state, el("td", {}, (j.rounds_done || 0) + " / " + j.rounds_planned),
        el("td", {}, (j.queued_at || "").replace("T", " ").slice(0, 19)), el("td", {}, j.reason || ""));
      tr.addEventListener("click", () => { selected = j.job_id; refresh(); });
      return tr;
    }));
  }

  // one line chart: series [{name, points: [[x, y]], colour, dashed}]
  function lineChart(svg, series, xMax, yLabel) {
    const W = 420, H = 220, L = 44, R = 10, T = 10, B = 28;
    const ys = series.flatMap((s) => s.points.map((p) => p[1])).filter((y) => Number.isFinite(y));
    svg.replaceChildren();
    let yMin = Math.min(0, ...ys), yMax = Math.max(1e-9, ...ys);
    if (yLabel === "auc") { yMin = Math.min(0.5, ...ys); yMax = 1; }
    if (yLabel === "r2") { yMax = 1; }
    const xs = (x) => L + (xMax <= 1 ? 0 : (x - 1) / (xMax - 1)) * (W - L - R);
    const yScale = (y) => T + (1 - (y - yMin) / ((yMax - yMin) || 1)) * (H - T - B);
    svg.append(svgEl("line", { class: "axis", x1: L, y1: H - B, x2: W - R, y2: H - B }));
    svg.append(svgEl("line", { class: "axis", x1: L, y1: T, x2: L, y2: H - B }));
    for (const v of [yMin, (yMin + yMax) / 2, yMax]) {
      const t = svgEl("text", { x: 4, y: yScale(v) + 4 });
      t.textContent = fmt(v, 2);
      svg.append(t);
    }
    for (let x = 1; x <= xMax; x++) {
      if (xMax > 12 && x % Math.ceil(xMax / 12) !== 0) continue;
      const t = svgEl("text", { x: xs(x) - 3, y: H - 8 });
      t.textContent = x;
      svg.append(t);
    }
    series.forEach((s) => {
      const pts = s.points.filter((p) => Number.isFinite(p[1]));
      if (pts.length === 0) return;
      const path = svgEl("polyline", { class: s.dashed ? "cap" : "series", stroke: s.colour,
        points: pts.map((p) => xs(p[0]) + "," + yScale(p[1])).join(" "), "data-series": s.name });
      svg.append(path);
      if (!s.dashed) {
        pts.forEach((p) => svg.append(svgEl("circle", { cx: xs(p[0]), cy: yScale(p[1]), r: 3, fill: s.colour,
          "data-round": p[0], "data-value": p[1] })));
        const lbl = svgEl("text", { x: xs(pts[pts.length - 1][0]) - 30, y: yScale(pts[pts.length - 1][1]) - 6 });
        lbl.textContent = s.name;
        svg.append(lbl);
      }
    });
  }

  function renderJob(status) {
    $("job-id").textContent = status ? status.job_id : "–";
    badge($("job-state"), status ? status.state : "");
    if (!status) return;
    const stage = status.open_stage;
    $("job-stage").textContent = stage ? "round " + stage.round + ", stage " + stage.stage.toLowerCase().replace(/_/g, "-")
      + (stage.awaiting.length ? ", waiting for " + stage.awaiting.join(", ") : "") : "";
    const rounds = status.rounds || [];
    const planned = status.rounds_planned || rounds.length || 1;
    // a regression job's rounds carry RMSE and R^2 instead of AUC and log-loss
    const regression = rounds.some((r) => r.rmse !== undefined);
    const quality = regression ? "r2" : "auc", loss = regression ? "rmse" : "loss";
    $("chart-auc").previousElementSibling.textContent = regression ? "R\u00b2 per round" : "AUC per round";
    $("chart-loss").previousElementSibling.textContent = regression ? "RMSE per round" : "log-loss per round";
    lineChart($("chart-auc"), [{ name: regression ? "R\u00b2" : "AUC", colour: COLOURS[0],
      points: rounds.filter((r) => r[quality] !== undefined).map((r) => [r.round, r[quality]]) }], planned, quality);
    lineChart($("chart-loss"), [{ name: loss === "rmse" ? "RMSE" : "loss", colour: COLOURS[2],
      points: rounds.filter((r) => r[loss] !== undefined).map((r) => [r.round, r[loss]]) }], planned, "loss");
    const perBank = (status.privacy && status.privacy.per_bank) || {};
    const banks = Object.keys(perBank).sort();
    const series = [];
    banks.forEach((b, i) => {
      const colour = COLOURS[i % COLOURS.length];
      series.push({ name: b, colour, points: rounds.filter((r) => r.epsilon && r.epsilon[b] !== undefined)
        .map((r) => [r.round, r.epsilon[b]]) });
      if (perBank[b].cap !== null && perBank[b].cap !== undefined) {
        series.push({ name: b + " cap", colour, dashed: true, points: [[1, perBank[b].cap], [planned, perBank[b].cap]] });
      }
    });
    lineChart($("chart-epsilon"), series, planned, "epsilon");
    // dropouts by stage, from each round's "bank@stage" labels
    const byStage = {};
    rounds.forEach((r) => (r.dropped || []).forEach((d) => {
      const stageName = d.split("@")[1] || "?";
      byStage[stageName] = (byStage[stageName] || 0) + 1;
    }));
    const stages = Object.keys(byStage).sort();
    fillRows($("dropouts"), stages.length ? stages.map((s) => {
      const tr = el("tr");
      tr.append(el("td", {}, s), el("td", {}, String(byStage[s])));
      return tr;
    }) : [el("tr", {}, "")].map((tr) => { tr.append(el("td", { colspan: 2, class: "muted" }, "none")); return tr; }));
    const aborted = status.aborted_attempts || [];
    $("aborted").textContent = aborted.length ? "aborted attempts: " + aborted.map((a) => "round " + a.round + " at "
      + a.stage).join("; ") : "";
    const shown = rounds.length;
    const prev = seen[seen.length - 1];
    if (!prev || prev.job !== status.job_id || prev.rounds !== shown || prev.state !== status.state) {
      seen.push({ job: status.job_id, rounds: shown, state: status.state });
    }
    return { rounds, perBank };
  }

  function renderBanks(snapshot, job) {
    const lastRound = {};
    ((job && job.rounds) || []).forEach((r) => (r.participants || []).forEach((b) => { lastRound[b] = r.round; }));
    const perBank = (job && job.privacy && job.privacy.per_bank) || {};
    fillRows($("banks"), snapshot.banks.map((b) => {
      const tr = el("tr", { "data-bank": b.bank });
      const online = el("td");
      online.append(el("span", { class: "badge " + (b.connected ? "on" : "off") }, b.connected ? "online" : "offline"));
      const p = perBank[b.bank] || {};
      tr.append(el("td", {}, b.bank), online, el("td", {}, lastRound[b.bank] ? String(lastRound[b.bank]) : "–"),
        el("td", {}, fmt(p.epsilon, 3)), el("td", {}, fmt(p.cap, 2)));
      return tr;
    }));
  }

  function renderLedger(ledger) {
    badge($("ledger-state"), ledger.state);
    $("ledger-detail").textContent = ledger.entries !== undefined ? ledger.entries + " entries, head "
      + (ledger.head_signed ? "signed" : "unsigned") + (ledger.failure ? ": " + ledger.failure : "") : "";
  }

  async function refresh() {
    if (!last) return;
    let job = last.current || null;
    if (selected && (!job || job.job_id !== selected)) {
      const r = await fetch("/api/v1/jobs/" + encodeURIComponent(selected));
      job = r.ok ? await r.json() : job;
    }
    renderJobs(last.jobs, job ? job.job_id : null);
    renderJob(job);
    renderBanks(last, job);
    renderLedger(last.ledger);
    $("updated").textContent = "updated " + last.at.replace("T", " ").slice(0, 19) + " UTC";
  }

  function connect() {
    const source = new EventSource("/api/v1/events");
    source.addEventListener("open", () => badge($("connection"), "on"));
    source.addEventListener("snapshot", (e) => { last = JSON.parse(e.data); refresh(); });
    source.addEventListener("error", () => { $("connection").textContent = "reconnecting…"; $("connection").className = "badge off"; });
  }

  window.consortDashboard = {
    seen,
    roundsShown: (jobId) => seen.filter((s) => s.job === jobId).reduce((m, s) => Math.max(m, s.rounds), 0),
    stateShown: (jobId) => { const s = seen.filter((x) => x.job === jobId); return s.length ? s[s.length - 1].state : null; },
  };
  connect();
})();
