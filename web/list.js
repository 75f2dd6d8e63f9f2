// The session list: the filters of `ttyaudit search`, held in the page's URL, and the bucket's
// layout (date, namespace, pod, container) with counts.
"use strict";
(function (ta) {
  const FILTERS = ["since", "until", "user", "command", "text", "namespace", "pod", "container",
    "node", "image", "state", "exit_code", "uid", "escalated", "live"];
  const LEVELS = ["date", "namespace", "pod", "container"];
  const url = new URLSearchParams(location.search);
  const page = Math.max(0, parseInt(url.get("page") || "0", 10) || 0);

  function withParams(changes) {
    const p = new URLSearchParams(location.search);
    for (const [k, v] of Object.entries(changes)) {
      if (v === null || v === "") p.delete(k); else p.set(k, v);
    }
    const s = p.toString();
    return "/" + (s ? "?" + s : "");
  }

  // The filters the list runs: the form's, plus the place chosen in the bucket's layout.
  function apiParams() {
    const p = new URLSearchParams();
    for (const f of FILTERS) if (url.get(f)) p.set(f, url.get(f));
    const at = {};
    for (const l of LEVELS) if (url.get("at_" + l)) at[l] = url.get("at_" + l);
    if (at.date) {
      if (!p.has("since")) p.set("since", at.date);
      if (!p.has("until")) p.set("until", at.date + "T23:59:59Z");
    }
    if (at.namespace === "_host") {
      if (at.pod) p.set("node", at.pod);
      if (at.container) p.set("user", at.container);
    } else {
      if (at.namespace && at.namespace !== "_none") p.set("namespace", at.namespace);
      if (at.pod && at.pod !== "_none") p.set("pod", at.pod);
      if (at.container) p.set("container", at.container);
    }
    return p;
  }

  function fillForm() {
    const form = document.getElementById("filters");
    for (const f of FILTERS) {
      const input = form.elements[f];
      if (!input) continue;
      if (input.type === "checkbox") input.checked = url.get(f) === "1";
      else input.value = url.get(f) || "";
    }
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const changes = { page: null };
      for (const f of FILTERS) {
        const input = form.elements[f];
        changes[f] = input.type === "checkbox" ? (input.checked ? "1" : null) : input.value.trim();
      }
      location.href = withParams(changes);
    });
  }

  function row(s) {
    const tr = document.createElement("tr");
    tr.className = "session" + (s.live ? " live" : "") + (s.escalated ? " escalated" : "");
    tr.dataset.id = s.id;
    tr.appendChild(ta.el("td", ta.time(s.start)));
    tr.appendChild(ta.el("td", ta.duration(s)));
    const state = ta.el("td", ta.stateText(s));
    if (s.live) state.appendChild(ta.el("span", "live", "live-badge"));
    if (s.escalated) state.appendChild(ta.el("span", "escalated", "esc-badge"));
    tr.appendChild(state);
    tr.appendChild(ta.el("td", ta.where(s), "where"));
    tr.appendChild(ta.el("td", s.k8s_user ? s.user + " (" + s.k8s_user + ")" : s.user));
    const ev = ta.el("td", s.live ? "pending" : "checking…", "evidence");
    ev.dataset.state = s.live ? "pending" : "checking";
    tr.appendChild(ev);
    const cmd = ta.el("td", null, "command");
    const a = ta.el("a", ta.argv(s.argv) || "(no argv)");
    a.href = (s.live ? "/live.html?id=" : "/session.html?id=") + encodeURIComponent(s.id);
    cmd.appendChild(a);
    tr.appendChild(cmd);
    return tr;
  }

  async function loadList() {
    const status = document.getElementById("status");
    const p = apiParams();
    p.set("page", String(page));
    const t0 = performance.now();
    try {
      const body = await ta.getJson("/api/sessions?" + p.toString());
      const tbody = document.querySelector("#sessions tbody");
      tbody.replaceChildren(...body.sessions.map(row));
      status.textContent = body.sessions.length
        ? "Sessions " + (page * body.per_page + 1) + "–" + (page * body.per_page + body.sessions.length) +
          ", newest first" + (body.warnings.length ? " (" + body.warnings.length + " warnings)" : "")
        : "No session matches.";
      const prev = document.getElementById("prev"), next = document.getElementById("next");
      prev.hidden = page === 0;
      prev.href = withParams({ page: page > 1 ? String(page - 1) : null });
      next.hidden = !body.more;
      next.href = withParams({ page: String(page + 1) });
      document.getElementById("page").textContent = "page " + (page + 1);
      window.ttyaudit.listLoadedMs = performance.now() - t0;
      document.body.dataset.loaded = "list";
      verifyRows(body.sessions.filter((x) => !x.live).map((x) => x.id));
    } catch (e) {
      status.textContent = "Cannot list sessions: " + e.message;
      document.body.dataset.loaded = "error";
    }
  }

  // Each row's evidence, as `ttyaudit verify` finds it, filled in as the server checks them.
  function verifyRows(ids) {
    ta.verify(ids, (v) => {
      const tr = document.querySelector('#sessions tbody tr[data-id="' + CSS.escape(v.id) + '"]');
      if (!tr) return;
      const cell = tr.querySelector("td.evidence");
      cell.textContent = ta.evidenceText(v);
      cell.dataset.state = v.state;
    }).catch(() => {}).finally(() => { document.body.dataset.verified = "list"; });
  }

  async function loadBrowse() {
    const crumbs = document.getElementById("crumbs");
    const items = document.getElementById("browse-items");
    const at = {};
    const q = new URLSearchParams();
    const home = ta.el("a", "all dates");
    home.href = withParams({ at_date: null, at_namespace: null, at_pod: null, at_container: null, page: null });
    crumbs.appendChild(home);
    for (const l of LEVELS) {
      const v = url.get("at_" + l);
      if (!v) break;
      at[l] = v;
      if (l !== "container") q.set("at_" + l, v);
      crumbs.appendChild(document.createTextNode(" / "));
      const c = ta.el("a", v);
      const keep = {};
      let past = false;
      for (const m of LEVELS) { if (past) keep["at_" + m] = null; if (m === l) past = true; }
      c.href = withParams(Object.assign(keep, { page: null }));
      crumbs.appendChild(c);
    }
    try {
      const body = await ta.getJson("/api/browse?" + q.toString());
      const level = body.level;
      items.replaceChildren(...body.items.map((it) => {
        const li = ta.el("li");
        const a = ta.el("a", it.name);
        a.href = withParams({ ["at_" + level]: it.name, page: null });
        if (url.get("at_" + level) === it.name) li.className = "chosen";
        li.appendChild(a);
        li.appendChild(ta.el("span", String(it.count), "count"));
        return li;
      }));
      document.body.dataset.browse = level;
    } catch (e) {
      items.replaceChildren(ta.el("li", "Cannot browse: " + e.message));
    }
  }

  fillForm();
  // The list first: browsing counts every session of the place chosen, which takes longer.
  loadList().then(loadBrowse);
})(window.ttyaudit);
