// The replay page: asciinema-player over the recording (which the server has already passed
// through its terminal filter), the session's metadata, and the command timeline.
"use strict";
(function (ta) {
  const id = new URLSearchParams(location.search).get("id") || "";
  const status = document.getElementById("status");
  let session = null;
  let castText = "";
  let gaps = null;  // event times of the loaded part, for the idle limit's time mapping
  let part = 0;
  ta.player = null;

  // A time of the recording as the player counts it: with an idle limit, every pause longer
  // than the limit counts as the limit.
  function playerTime(t) {
    const limit = parseFloat(document.getElementById("idle").value);
    if (!limit || !gaps) return t;
    let out = 0, last = 0;
    for (const g of gaps) {
      if (g > t) break;
      out += Math.min(g - last, limit);
      last = g;
    }
    return out + Math.min(t - last, limit);
  }

  function eventTimes(text) {
    const times = [];
    const markers = [];
    // Only the times (and the markers, which are few): the player parses the events itself.
    const head = /^\[([0-9.e+-]+), "(.)"/;
    for (const line of text.split("\n")) {
      const m = head.exec(line);
      if (!m) continue;
      times.push(parseFloat(m[1]));
      if (m[2] !== "m") continue;
      try {
        markers.push([times[times.length - 1], String(JSON.parse(line)[2])]);
      } catch (e) { /* a line cut short */ }
    }
    return { times, markers };
  }

  function createPlayer(autoPlay, at) {
    if (ta.player) ta.player.dispose();
    const el = document.getElementById("player");
    el.replaceChildren();
    const opts = {
      speed: parseFloat(document.getElementById("speed").value),
      fit: "width",
      autoPlay: autoPlay,
      preload: true,
      cols: session.width,
      rows: session.height,
    };
    const idle = parseFloat(document.getElementById("idle").value);
    if (idle) opts.idleTimeLimit = idle;
    ta.player = AsciinemaPlayer.create({ data: castText }, el, opts);
    ta.player.addEventListener("ended", () => { document.body.dataset.played = "ended"; });
    if (at) ta.player.seek(at);
  }

  async function fetchPart(n) {
    const r = await fetch("/api/sessions/" + encodeURIComponent(id) + "/cast?part=" + n,
      { credentials: "same-origin" });
    if (!r.ok) throw new Error("recording: " + r.status + " " + r.statusText);
    return r.text();
  }

  // `text`: the part already being fetched (the first part is asked for with the metadata).
  async function loadPart(n, text) {
    part = n;
    status.textContent = "Loading the recording…";
    const t0 = performance.now();
    castText = await (text || fetchPart(n));
    const ev = eventTimes(castText);
    gaps = ev.times;
    createPlayer(false);
    ta.firstFrameMs = performance.now() - t0;
    status.textContent = session.parts > 1
      ? "Part " + (n + 1) + " of " + session.parts + ": times in this part start at its first event."
      : "";
    renderTimeline(ev.markers);
    document.body.dataset.loaded = "player";
  }

  function renderTimeline(markers) {
    const ol = document.getElementById("timeline");
    const items = [];
    for (const c of session.commands) items.push({ t: c.start, c });
    for (const [t, label] of markers) items.push({ t, marker: label });
    items.sort((a, b) => a.t - b.t);
    ol.replaceChildren(...items.map((it) => {
      const li = ta.el("li");
      if (it.marker !== undefined) {
        li.className = "marker" + (/hidden/.test(it.marker) ? " hidden-input" : "");
        li.appendChild(ta.el("span", it.t.toFixed(1) + "s", "t"));
        li.appendChild(ta.el("span", it.marker, "argv"));
        return li;
      }
      const c = it.c;
      li.className = "command" + (c.escalated ? " escalated" : "");
      const b = ta.el("button", null, "seek");
      b.type = "button";
      b.dataset.start = String(c.start);
      b.appendChild(ta.el("span", c.start.toFixed(1) + "s", "t"));
      b.appendChild(ta.el("span", ta.argv(c.argv), "argv"));
      b.addEventListener("click", () => {
        if (!ta.player) return;
        const t = playerTime(c.start);
        ta.player.pause();
        ta.player.seek(t);
        ta.seekedTo = t;
      });
      li.appendChild(b);
      const facts = "cwd " + c.cwd + " · uid " + c.uid + (c.user ? " (" + c.user + ")" : "") +
        " · euid " + c.euid + (c.euser ? " (" + c.euser + ")" : "") +
        (c.end === null ? " · running" : c.signal ? " · signal " + c.signal : " · exit " + c.exit_code);
      li.appendChild(ta.el("div", facts, "facts"));
      if (c.escalated) li.appendChild(ta.el("span", "escalated", "esc-badge"));
      return li;
    }));
    if (!items.length) ol.appendChild(ta.el("li", "No commands were tracked."));
  }

  // The session's evidence, as `ttyaudit verify` finds it (a large recording on request).
  function showEvidence(full) {
    const dl = document.getElementById("meta");
    let dd = document.getElementById("evidence");
    if (!dd) {
      dl.appendChild(ta.el("dt", "evidence"));
      dd = ta.el("dd", session.live ? "pending" : "checking…");
      dd.id = "evidence";
      dl.appendChild(dd);
    }
    if (session.live) { dd.dataset.state = "pending"; return; }
    ta.verify([id], (v) => {
      dd.textContent = ta.evidenceText(v);
      dd.dataset.state = v.state;
      if (v.state !== "unchecked") return;
      const b = ta.el("button", "check it now", "seek");
      b.type = "button";
      b.addEventListener("click", () => { dd.textContent = "checking…"; showEvidence(true); });
      dd.appendChild(document.createTextNode(" "));
      dd.appendChild(b);
    }, full).catch((e) => { dd.textContent = "cannot check: " + e.message; });
  }

  async function main() {
    // The recording's first part is fetched at once, beside the metadata.
    const first = fetchPart(0);
    first.catch(() => {});  // a failure is reported once the metadata came
    try {
      session = await ta.getJson("/api/sessions/" + encodeURIComponent(id));
    } catch (e) {
      status.textContent = "Cannot open the session: " + e.message;
      document.body.dataset.loaded = "error";
      return;
    }
    document.getElementById("title").textContent = ta.where(session) + " · " + ta.argv(session.argv);
    ta.fillMeta(document.getElementById("meta"), session);
    showEvidence(false);
    const dl = document.getElementById("download");
    dl.href = "/api/sessions/" + encodeURIComponent(id) + "/download";
    dl.setAttribute("download", id + ".cast");
    if (session.live) {
      const live = document.getElementById("live-link");
      live.hidden = false;
      live.href = "/live.html?id=" + encodeURIComponent(id);
    }
    if (session.parts > 1) {
      const sel = document.getElementById("part");
      for (let i = 0; i < session.parts; i++) sel.appendChild(ta.el("option", String(i + 1)));
      document.getElementById("part-count").textContent = String(session.parts);
      document.getElementById("parts").hidden = false;
      sel.addEventListener("change", () => loadPart(sel.selectedIndex));
    }
    for (const ctl of ["speed", "idle"])
      document.getElementById(ctl).addEventListener("change", () => {
        const at = ta.player ? ta.player.getCurrentTime() : 0;
        createPlayer(true, at);
      });
    try {
      await loadPart(0, session.live ? null : first);
    } catch (e) {
      status.textContent = "Cannot load the recording: " + e.message;
      document.body.dataset.loaded = "error";
    }
  }
  main();
})(window.ttyaudit);
