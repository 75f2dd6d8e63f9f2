// Helpers shared by the viewer's pages. Everything a session holds (names, argv, output) came
// from a container and is shown as text: elements are built with textContent, never innerHTML.
"use strict";
window.ttyaudit = window.ttyaudit || {};
(function (ta) {
  ta.el = function (tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  };
  ta.getJson = async function (url) {
    const r = await fetch(url, { credentials: "same-origin" });
    const body = await r.json().catch(() => ({ error: r.status + " " + r.statusText }));
    if (!r.ok) throw new Error(body.error || r.status + " " + r.statusText);
    return body;
  };
  ta.time = function (rfc3339) {
    return rfc3339 ? rfc3339.replace("T", " ").replace(/\.\d+Z$/, "Z").replace(/Z$/, "") : "";
  };
  ta.duration = function (s) {
    if (!s.end) return "live";
    const n = Math.round(s.duration_s);
    const h = Math.floor(n / 3600), m = Math.floor((n % 3600) / 60), sec = n % 60;
    return h ? h + "h" + String(m).padStart(2, "0") + "m" : m + "m" + String(sec).padStart(2, "0") + "s";
  };
  ta.where = function (s) {
    if (s.source === "host") return "host " + s.node;
    return [s.namespace, s.pod, s.container || (s.container_id || "").slice(0, 12)]
      .filter((x) => x).join("/");
  };
  ta.stateText = function (s) {
    if (s.state === "exited") return "exited " + s.exit_code;
    if (s.state === "signaled") return "signal " + s.signal;
    return s.state;
  };
  ta.argv = function (argv) {
    return (argv || []).join(" ");
  };
  ta.addMeta = function (dl, name, value) {
    if (value === undefined || value === null || value === "") return;
    dl.appendChild(ta.el("dt", name));
    dl.appendChild(ta.el("dd", value));
  };
  ta.fillMeta = function (dl, s) {
    ta.addMeta(dl, "id", s.id);
    ta.addMeta(dl, "namespace", s.namespace);
    ta.addMeta(dl, "pod", s.pod);
    ta.addMeta(dl, "container", s.container);
    ta.addMeta(dl, "container id", s.container_id);
    ta.addMeta(dl, "image", s.image);
    ta.addMeta(dl, "node", s.node);
    ta.addMeta(dl, "user", s.user + " (uid " + s.uid + ")");
    ta.addMeta(dl, "Kubernetes user", s.k8s_user);
    ta.addMeta(dl, "command", ta.argv(s.argv));
    ta.addMeta(dl, "cwd", s.cwd);
    ta.addMeta(dl, "start", ta.time(s.start));
    ta.addMeta(dl, "end", s.end ? ta.time(s.end) : "still recording");
    ta.addMeta(dl, "state", ta.stateText(s));
    ta.addMeta(dl, "escalated", s.escalated ? "yes: a process changed its uid or euid" : "no");
    if (s.bytes_in_hidden) ta.addMeta(dl, "hidden input", s.bytes_in_hidden + " bytes typed with echo off (not stored)");
  };
  // A verdict of `ttyaudit verify`'s checks as text: "verified", "FAILED: reason; reason", ...
  ta.evidenceText = function (v) {
    if (v.state === "verified") return "verified (key " + v.key_id + ")";
    if (v.state === "failed") return "FAILED: " + v.problems.join("; ");
    if (v.state === "pending") return "pending: still recording or not uploaded yet";
    if (v.state === "unsigned") return "unsigned: stored without a signature";
    if (v.state === "unchecked") return "not checked: " + v.problems.join("; ");
    return v.state;
  };
  // Asks for the verdicts of `ids` (the server checks a few seconds' worth per request) and
  // hands each to `show(verdict)`, asking again for those it has not checked yet.
  ta.verify = async function (ids, show, full) {
    let left = ids.slice();
    for (let round = 0; left.length && round < 20; round++) {
      const body = await ta.getJson("/api/verify?ids=" + left.map(encodeURIComponent).join(",") +
        (full ? "&full=1" : ""));
      for (const v of body.verdicts) show(v);
      const done = new Set(body.verdicts.map((v) => v.id));
      left = left.filter((id) => !done.has(id));
    }
  };
})(window.ttyaudit);
