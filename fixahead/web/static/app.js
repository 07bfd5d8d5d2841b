// The board: live refresh (PostgreSQL NOTIFY -> server-sent events), drag and drop to move or
// place jobs (every drop is checked on the server), the customer's P(home) band under the row
// while dragging, and a keyboard dialog that does everything a drag does.
(function () {
  "use strict";
  var drag = null;      // what is being dragged: {visit, incident, job, offsetS, tod, minutes}
  var band = null;      // {start, p} of the dragged job's customer
  var bandRow = null;

  function $(id) { return document.getElementById(id); }
  function board() { return $("board"); }
  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; }
    catch (e) { return ""; }
  }
  function cols() {  // per column: [local midnight, shown from, shown until] in epoch seconds
    return board().dataset.cols.split(";").map(function (s) { return s.split(",").map(Number); });
  }
  function inZone(epoch, opts, locale) {
    opts.timeZone = board().dataset.tz;
    return new Intl.DateTimeFormat(locale || "en-GB", opts).format(new Date(epoch * 1000));
  }
  function hm(epoch) { return inZone(epoch, {hour: "2-digit", minute: "2-digit", hourCycle: "h23"}); }
  function isoDay(epoch) { return inZone(epoch, {year: "numeric", month: "2-digit", day: "2-digit"}, "en-CA"); }
  function say(text, bad) {
    var m = $("board-msg");
    if (!m) return;
    m.hidden = false;
    m.textContent = text;
    m.className = "boardmsg " + (bad ? "alert" : "ok");
  }
  function refresh() { var b = board(); if (b && window.htmx) window.htmx.trigger(b, "refresh"); }
  function techName(id) {
    var o = document.querySelector('#move-tech option[value="' + id + '"]');
    return o ? o.textContent.split(" · ")[0] : "technician " + id;
  }

  // ---- saving: one endpoint for drops and the dialog --------------------------------------
  function post(fields) {
    var body = new URLSearchParams();
    Object.keys(fields).forEach(function (k) { if (fields[k] !== "" && fields[k] != null) body.append(k, fields[k]); });
    return fetch("/board/move", {method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRF-Token": csrf(), "Accept": "application/json"}})
      .then(function (r) { return r.json().catch(function () { return {status: "refused", message: "The server answered " + r.status + "."}; }); });
  }
  function startIso(epoch) { return new Date(epoch * 1000).toISOString(); }

  function drop(what, tech, start) {
    say("Checking " + (what.job || "the job") + " with " + techName(tech) + " at " + hm(start) + "…");
    post({visit_id: what.visit, incident_id: what.incident, technician_id: tech, start: startIso(start)})
      .then(function (res) {
        if (res.status === "moved") { say(res.message); refresh(); }
        else if (res.status === "confirm") { openDialog(what, tech, start, res.warnings); }
        else { say(res.message || "Refused.", true); }
      });
  }

  // ---- the keyboard dialog ---------------------------------------------------------------
  function openDialog(what, tech, start, warnings) {
    var dlg = $("move-dialog"), form = $("dialog-form");
    if (!dlg) return;
    form.elements.visit_id.value = what.visit || "";
    form.elements.incident_id.value = what.incident || "";
    form.elements.confirm.value = "false";
    $("move-what").textContent = (what.label || what.job || "This job") + (what.visit ? "" : " (not on the board yet)");
    $("move-title").textContent = (what.visit ? "Move " : "Place ") + (what.job || "the job");
    if (tech) form.elements.technician_id.value = tech;
    if (start == null) start = Math.ceil(Date.now() / 900000) * 900 + 3600;
    form.elements.day.value = isoDay(start);
    form.elements.time.value = hm(start);
    showProblems(null, warnings);
    if (!dlg.open) dlg.showModal();
    (warnings && warnings.length ? $("move-submit") : form.elements.technician_id).focus();
  }
  function showProblems(error, warnings) {
    var res = $("move-result"), list = $("move-warnings"), form = $("dialog-form");
    res.hidden = !error; res.textContent = error || "";
    list.innerHTML = "";
    (warnings || []).forEach(function (w) { var li = document.createElement("li"); li.textContent = w; list.appendChild(li); });
    list.hidden = !(warnings && warnings.length);
    form.elements.confirm.value = warnings && warnings.length ? "true" : "false";
    $("move-submit").textContent = warnings && warnings.length ? "Move anyway" : "Move";
  }
  function submitDialog(ev) {
    ev.preventDefault();
    var f = $("dialog-form").elements;
    post({visit_id: f.visit_id.value, incident_id: f.incident_id.value, technician_id: f.technician_id.value,
          start: f.day.value + "T" + f.time.value, confirm: f.confirm.value})
      .then(function (res) {
        if (res.status === "moved") { $("move-dialog").close(); say(res.message); refresh(); }
        else if (res.status === "confirm") { showProblems(null, res.warnings); }
        else { showProblems(res.message || "Refused.", null); }
      });
  }
  function blockWhat(el) {
    // a block's title says all of it: number, times, fault, customer, town, state
    if (el.dataset.visit) return {visit: el.dataset.visit, job: (el.title || "").split(" · ")[0],
      label: el.title, tod: +el.dataset.tod, minutes: +el.dataset.min};
    return {incident: el.dataset.incident, job: el.dataset.job, label: el.querySelector("a").textContent, minutes: 60};
  }
  function blockStart(el) {  // a job's current start, from its day column and time of day
    var cell = el.closest(".day[data-col]");
    return cell ? cols()[+cell.dataset.col][0] + (+el.dataset.tod) : null;
  }

  // ---- drag and drop ---------------------------------------------------------------------
  function targetOf(ev) {
    var cell = ev.target.closest && ev.target.closest(".brow[data-tech] > .day[data-col]");
    if (!cell || !drag) return null;
    var c = cols()[+cell.dataset.col], start = null;
    if (board().classList.contains("axis")) {
      var r = cell.getBoundingClientRect();
      var frac = Math.min(Math.max((ev.clientX - r.left) / r.width, 0), 1);
      start = Math.round((c[1] + frac * (c[2] - c[1]) - drag.offsetS) / 900) * 900;
    } else if (drag.tod != null) {
      start = c[0] + drag.tod;  // another day, the same time of day
    }
    return {cell: cell, row: cell.parentNode, tech: cell.parentNode.dataset.tech, start: start, col: c};
  }
  function pAt(epoch) {
    if (!band || !band.p) return null;
    var i = Math.floor((epoch - band.start) / 3600);
    return i >= 0 && i < band.p.length ? band.p[i] : null;
  }
  function showBand(row) {
    if (bandRow === row) return;
    // the band moves with the row; the ghost stays (the band may arrive after the ghost is
    // drawn, and no dragover redraws it while the pointer rests)
    document.querySelectorAll(".phome").forEach(function (e) { e.remove(); });
    bandRow = row;
    if (!band || !band.p) return;
    var all = cols();
    row.querySelectorAll(".day[data-col]").forEach(function (cell) {
      var c = all[+cell.dataset.col], stops = [];
      for (var t = c[1]; t < c[2]; t += 3600) {
        var p = pAt(t), a = ((t - c[1]) / (c[2] - c[1]) * 100).toFixed(2), b = (Math.min(t + 3600 - c[1], c[2] - c[1]) / (c[2] - c[1]) * 100).toFixed(2);
        var colour = p == null ? "#d8dde5" : p >= 0.6 ? "#2d7d46" : p >= 0.4 ? "#e0b04a" : "#c0392b";
        stops.push(colour + " " + a + "%", colour + " " + b + "%");
      }
      var div = document.createElement("div");
      div.className = "phome";
      div.style.background = "linear-gradient(to right," + stops.join(",") + ")";
      div.title = "Predicted P(home) of the customer: green likely in, red likely out";
      cell.appendChild(div);
    });
  }
  function clearBand() {
    document.querySelectorAll(".phome, .ghost").forEach(function (e) { e.remove(); });
    bandRow = null;
  }
  function ghost(t) {
    var g = document.querySelector(".ghost");
    if (!g) { g = document.createElement("div"); g.className = "ghost"; }
    if (g.parentNode !== t.cell) t.cell.appendChild(g);
    var p = t.start == null ? null : pAt(t.start);
    g.textContent = t.start == null ? "drop to choose a time" :
      hm(t.start) + (p == null ? "" : " · P(home) " + Math.round(p * 100) + "%");
    if (board().classList.contains("axis") && t.start != null) {
      var span = t.col[2] - t.col[1];
      g.style.left = ((t.start - t.col[1]) / span * 100).toFixed(2) + "%";
      g.style.width = Math.max(drag.minutes * 60 / span * 100, 4).toFixed(2) + "%";
    }
  }

  document.addEventListener("dragstart", function (ev) {
    var el = ev.target.closest && ev.target.closest("#board[data-move] a[data-visit], #side li[data-incident][draggable]");
    if (!el) return;
    var what = blockWhat(el);
    what.offsetS = 0;
    if (el.dataset.visit && board().classList.contains("axis")) {
      var cell = el.closest(".day[data-col]"), c = cols()[+cell.dataset.col];
      var r = cell.getBoundingClientRect();
      what.offsetS = (ev.clientX - el.getBoundingClientRect().left) / r.width * (c[2] - c[1]);
    }
    if (!el.dataset.visit) what.tod = null;
    drag = what;
    band = null;
    ev.dataTransfer.effectAllowed = "move";
    ev.dataTransfer.setData("text/plain", what.job || "job");
    document.body.classList.add("dragging");
    var q = new URLSearchParams({day: board().dataset.day, days: board().dataset.days});
    q.append(what.visit ? "visit_id" : "incident_id", what.visit || what.incident);
    fetch("/board/presence?" + q, {credentials: "same-origin"}).then(function (r) { return r.ok ? r.json() : null; })
      .then(function (b) { if (drag === what) { band = b; var row = bandRow; bandRow = null; if (row) showBand(row); } });
  });
  document.addEventListener("dragover", function (ev) {
    var t = targetOf(ev);
    if (!t) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = "move";
    showBand(t.row);
    ghost(t);
  });
  document.addEventListener("drop", function (ev) {
    var t = targetOf(ev);
    if (!t) return;
    ev.preventDefault();
    var what = drag;
    clearBand();
    if (t.start == null) openDialog(what, t.tech, t.col[1] + 3 * 3600, null);
    else drop(what, t.tech, t.start);
  });
  document.addEventListener("dragend", function () {
    drag = null; clearBand(); document.body.classList.remove("dragging");
  });

  // ---- keyboard: M on a job, "Place…" in the list -----------------------------------------
  document.addEventListener("keydown", function (ev) {
    if ((ev.key === "m" || ev.key === "M") && !ev.ctrlKey && !ev.metaKey && !ev.altKey) {
      var el = ev.target.closest && ev.target.closest("#board[data-move] a[data-visit]");
      if (!el) return;
      ev.preventDefault();
      openDialog(blockWhat(el), el.closest(".brow").dataset.tech, blockStart(el), null);
    }
  });
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("#side button.place");
    if (b) openDialog(blockWhat(b.closest("li")), null, null, null);
  });

  // ---- where the day view opens: a day shown from before its first job (one job past
  // midnight shows 00-24) opens at that job; a live refresh keeps where the person scrolled
  function toFirstJob(b) {
    var cell = b && b.classList.contains("axis") && b.querySelector(".bhead .day"), first = Infinity;
    if (!cell) return;
    b.querySelectorAll("a.job").forEach(function (a) { first = Math.min(first, parseFloat(a.style.left) || 0); });
    if (first < Infinity) b.scrollLeft = Math.max(cell.offsetWidth * first / 100 - 54, 0);  // half an hour before it
  }
  var kept = null;
  document.addEventListener("htmx:beforeSwap", function (ev) {
    var b = ev.detail.target;
    if (b && b.id === "board") kept = {left: b.scrollLeft, top: b.scrollTop};
  });
  document.addEventListener("htmx:afterSettle", function () {
    var b = board();
    if (b && kept) { b.scrollLeft = kept.left; b.scrollTop = kept.top; }
    kept = null;
  });

  document.addEventListener("DOMContentLoaded", function () {
    toFirstJob(board());
    var form = $("dialog-form");
    if (form) {
      form.addEventListener("submit", submitDialog);
      form.addEventListener("change", function () { showProblems(null, null); });
      $("move-cancel").addEventListener("click", function () { $("move-dialog").close(); });
    }
    if (!board() || !window.EventSource) return;
    var live = $("live"), timer = null, source = new EventSource("/board/events");
    source.addEventListener("open", function () { if (live) live.dataset.state = "on"; });
    source.addEventListener("error", function () { if (live) live.dataset.state = "off"; });
    source.addEventListener("visit", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { if (!drag) refresh(); }, 150);
    });
  });
})();
