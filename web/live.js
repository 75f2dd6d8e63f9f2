// A running session, followed as it is recorded: the server sends its output (through its
// terminal filter) as server-sent events, and xterm.js shows it. When the session ends the
// page becomes its replay.
"use strict";
(function (ta) {
  const id = new URLSearchParams(location.search).get("id") || "";
  const status = document.getElementById("status");
  const state = document.getElementById("state");
  document.getElementById("replay-link").href = "/session.html?id=" + encodeURIComponent(id);

  async function main() {
    try {
      const s = await ta.getJson("/api/sessions/" + encodeURIComponent(id));
      document.getElementById("title").textContent = ta.where(s) + " · " + ta.argv(s.argv);
      ta.fillMeta(document.getElementById("meta"), s);
    } catch (e) {
      status.textContent = "Cannot open the session: " + e.message;
    }
    // No link handler, no title or clipboard handler: what the recording asks of a terminal
    // beyond drawing does nothing here (and the server has already dropped it).
    const term = new Terminal({ convertEol: false, disableStdin: true, scrollback: 5000,
      allowProposedApi: false, linkHandler: null });
    term.open(document.getElementById("terminal"));
    ta.term = term;
    ta.received = 0;
    const es = new EventSource("/api/sessions/" + encodeURIComponent(id) + "/live");
    es.addEventListener("header", (e) => {
      const h = JSON.parse(e.data);
      if (h.width && h.height) term.resize(h.width, h.height);
      state.textContent = "live";
      document.body.dataset.loaded = "live";
    });
    es.addEventListener("output", (e) => {
      const text = JSON.parse(e.data);
      ta.received += text.length;
      term.write(text);
    });
    es.addEventListener("resize", (e) => {
      const [w, h] = JSON.parse(e.data);
      if (w > 0 && h > 0) term.resize(w, h);
    });
    es.addEventListener("end", () => {
      es.close();
      state.textContent = "ended";
      document.body.dataset.ended = "1";
      status.textContent = "The session ended; opening its replay…";
      setTimeout(() => location.replace("/session.html?id=" + encodeURIComponent(id)), 1500);
    });
    es.addEventListener("failed", (e) => {
      es.close();
      state.textContent = "not live";
      status.textContent = "Cannot follow the session: " + JSON.parse(e.data);
    });
    es.onerror = () => { if (es.readyState === EventSource.CLOSED) state.textContent = "disconnected"; };
  }
  main();
})(window.ttyaudit);
