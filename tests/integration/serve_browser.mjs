// Drives Debian's headless Chromium (playwright-core) through `ttyaudit serve` as a person
// would, for tests/integration/serve_browser.sh: the list and its filters, browsing, the replay
// and its timeline, the download, a hostile session, and a live one. Every check throws on
// failure. Input (environment): SERVE_URL, SESSIONS (JSON: ids and what each holds), SHOTS (a
// directory for the screenshots); for the live part LIVE_ID, LIVE_TYPE (tmux send-keys to the
// session's window), LIVE_LIMIT_MS, LIVE_SHOT (screenshot name), LIVE_END (ends the session);
// LIVE_ONLY=1 runs only the live part.
import { chromium } from "playwright-core";
import { execSync } from "node:child_process";
import { mkdirSync } from "node:fs";

const base = process.env.SERVE_URL;
const s = JSON.parse(process.env.SESSIONS);
const shots = process.env.SHOTS;
mkdirSync(shots, { recursive: true });

function check(cond, what) {
  if (!cond) throw new Error("FAIL: " + what);
  console.log("ok: " + what);
}

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"] });
const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 } });
const dialogs = [];
const pageErrors = [];
ctx.on("page", (p) => {
  p.on("dialog", (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
  p.on("pageerror", (e) => pageErrors.push(String(e)));
});
const page = await ctx.newPage();

async function open(path, loaded) {
  await page.goto(base + path);
  await page.waitForSelector(`body[data-loaded="${loaded}"]`, { timeout: 20000 });
}
const rowIds = () => page.$$eval("#sessions tbody tr", (rows) => rows.map((r) => r.dataset.id));

if (!process.env.LIVE_ONLY) {
// The list: every session, newest first.
await open("/", "list");
let ids = await rowIds();
for (const id of s.all) check(ids.includes(id), `the list shows session ${id}`);
const starts = await page.$$eval("#sessions tbody tr td:first-child", (t) => t.map((x) => x.textContent));
check(starts.every((v, i) => i === 0 || starts[i - 1] >= v), "the list is newest first");
await page.waitForSelector("#browse-items li");
await page.screenshot({ path: shots + "/serve-list.png" });

// A pod filter and a command filter narrow it, and the URL holds them.
await page.fill("input[name=pod]", s.pod);
await page.click("#filters button[type=submit]");
await page.waitForSelector('body[data-loaded="list"]');
check(page.url().includes("pod=" + encodeURIComponent(s.pod)), "the pod filter is in the URL");
ids = await rowIds();
check(ids.includes(s.tty) && !ids.includes(s.host), `pod=${s.pod} lists its session and not the host's`);
const wheres = await page.$$eval("#sessions tbody td.where", (t) => t.map((x) => x.textContent));
check(wheres.every((w) => w.includes(s.pod)), "every listed session is in that pod");
await open("/?command=" + encodeURIComponent(s.command), "list");
ids = await rowIds();
check(ids.length === 1 && ids[0] === s.host, `command=${s.command} lists only the host session`);

// Browsing the bucket's layout: date, then namespace, pod and container, with counts.
await open("/", "list");
await page.waitForSelector('body[data-browse="date"]');
const dates = await page.$$eval("#browse-items li", (l) => l.map((x) => x.textContent));
check(dates.some((d) => d.startsWith(s.date) && d.endsWith(String(s.date_count))),
  `browse: ${s.date} with ${s.date_count} sessions (${dates.join(", ")})`);
await page.click(`#browse-items a:text-is("${s.date}")`);
await page.waitForSelector('body[data-browse="namespace"][data-loaded="list"]');
await page.click(`#browse-items a:text-is("${s.namespace}")`);
await page.waitForSelector('body[data-browse="pod"][data-loaded="list"]');
const pods = await page.$$eval("#browse-items li", (l) => l.map((x) => x.textContent));
check(pods.some((p) => p === s.pod + "1"), `browse: pod ${s.pod} with 1 session (${pods.join(", ")})`);
ids = await rowIds();
check(ids.includes(s.tty) && !ids.includes(s.host), "browsing a namespace lists its sessions only");

// The replay: the final screen holds what was typed and shown.
await open("/session.html?id=" + s.tty, "player");
const meta = await page.textContent("#meta");
for (const want of [s.namespace, s.pod, s.container, "exited 3"])
  check(meta.includes(want), `the metadata shows ${want}`);
const duration = await page.evaluate(() => window.ttyaudit.player.getDuration());
await page.evaluate((d) => window.ttyaudit.player.seek(d), duration);
await page.waitForFunction((want) => {
  const t = document.querySelector(".ap-term-text");
  return t && want.every((w) => t.textContent.includes(w));
}, s.screen, { timeout: 10000 });
check(true, `the player's final screen shows ${s.screen.join(", ")}`);
await page.screenshot({ path: shots + "/serve-replay.png" });

// Clicking a command in the timeline moves the player's time to it.
const buttons = await page.$$("#timeline button.seek");
check(buttons.length > 0, `the timeline lists ${buttons.length} commands`);
const target = await page.$(`#timeline button.seek:has(.argv:text-matches("${s.seek_command}"))`);
check(target !== null, `the timeline has the command ${s.seek_command}`);
const start = parseFloat(await target.getAttribute("data-start"));
await target.click();
await page.waitForTimeout(500);
const now = await page.evaluate(() => window.ttyaudit.player.getCurrentTime());
check(Math.abs(now - start) < 0.6 && Math.abs(now - duration) > 0.6,
  `a click on ${s.seek_command} moves the player to ${start.toFixed(2)} s (now ${now.toFixed(2)} s)`);

// The download is plain asciicast v2 with the session's output.
const href = await page.getAttribute("#download", "href");
const cast = await page.evaluate(async (u) => (await fetch(u)).text(), href);
check(JSON.parse(cast.split("\n")[0]).version === 2, "the download is asciicast v2");
check(cast.includes(s.screen[0]) && !cast.includes('"b",'), "the download holds the output, no ttyaudit events");

// A hostile session: its pod name and output are text, its escape sequences do nothing.
await page.evaluate(() => { window.__pwned = undefined; });
await open("/?pod=" + encodeURIComponent(s.hostile_pod), "list");
ids = await rowIds();
check(ids.length === 1 && ids[0] === s.hostile, "the hostile pod's name filters as text");
const shownPod = await page.textContent("#sessions tbody td.where");
check(shownPod.includes(s.hostile_pod), "the hostile pod name is shown as text");
await open("/session.html?id=" + s.hostile, "player");
const hd = await page.evaluate(() => window.ttyaudit.player.getDuration());
await page.evaluate((d) => window.ttyaudit.player.seek(d), hd);
await page.waitForFunction(() => document.querySelector(".ap-term-text").textContent.includes("hostile-done"),
  null, { timeout: 10000 });
await page.waitForTimeout(1000);
const shown = await page.textContent(".ap-term-text");
check(shown.includes("<script>"), "the recorded <script> is shown as text");
check(await page.evaluate(() => window.__pwned === undefined), "no script of the recording ran: the flag is unset");
check(await page.evaluate(() => document.querySelectorAll("img, script:not([src])").length === 0),
  "the page holds no element the recording made");
check(await page.title() === "ttyaudit: session", "the OSC title did not change the page's title");
const served = await page.evaluate(async (id) => (await fetch("/api/sessions/" + id + "/cast")).text(), s.hostile);
check(!served.includes("]52;") && !served.includes("]0;"), "the player's stream holds no OSC 52 or title");
const res = await page.goto(base + "/session.html?id=" + s.hostile);
const csp = res.headers()["content-security-policy"] || "";
check(csp.includes("default-src 'self'") && csp.includes("script-src 'self'") && !/script-src[^;]*unsafe-inline/.test(csp),
  "the page is sent with a CSP that forbids inline script");
check(res.headers()["x-content-type-options"] === "nosniff", "X-Content-Type-Options: nosniff");
await page.waitForSelector('body[data-loaded="player"]');

}

// Live: a running session's new output appears in the page within the delay.
if (process.env.LIVE_ID) {
  await open("/live.html?id=" + process.env.LIVE_ID, "live");
  const delays = [];
  for (let i = 0; i < 5; i++) {
    const word = "live-" + i + "-" + Date.now();
    const t0 = Date.now();
    execSync(process.env.LIVE_TYPE + " 'echo " + word + "' Enter");
    await page.waitForFunction((w) => document.querySelector(".xterm-rows").textContent.includes(w),
      word, { timeout: 10000, polling: 50 });
    delays.push(Date.now() - t0);
  }
  const max = Math.max(...delays);
  const limit = parseInt(process.env.LIVE_LIMIT_MS, 10);
  check(max <= limit, `live output appears within ${limit} ms (delays ${delays.join(", ")} ms)`);
  if (process.env.LIVE_SHOT) await page.screenshot({ path: shots + "/" + process.env.LIVE_SHOT + ".png" });
  if (process.env.LIVE_END) {
    execSync(process.env.LIVE_END);
    await page.waitForURL(/session\.html/, { timeout: 20000 });
    await page.waitForSelector('body[data-loaded="player"]', { timeout: 20000 });
    check(true, "the live page turns into the replay when the session ends");
  }
}

check(dialogs.length === 0, "no dialog opened" + (dialogs.length ? ": " + dialogs.join(", ") : ""));
check(pageErrors.length === 0, "no script error in the pages" + (pageErrors.length ? ": " + pageErrors.join("; ") : ""));
await browser.close();
