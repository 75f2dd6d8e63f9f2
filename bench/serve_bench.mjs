// bench/serve.sh's measurements, in Debian's headless Chromium: prints one JSON object.
//  - list: from navigation to the first list page drawn, over the bucket's sessions; the first
//    with a fresh catalog (serve reads the index segments), then warm.
//  - first frame: from navigation to the large session's first line on the player's screen.
//  - live: from a word typed into the running session to that word on the live page, followed
//    from the node's spool and, by a second viewer, from the bucket's live chunks.
import { chromium } from "playwright-core";
import { execSync } from "node:child_process";

const base = process.env.SERVE_URL;
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"] });
const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();

async function timed(fn) {
  const t0 = performance.now();
  await fn();
  return Math.round(performance.now() - t0);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(xs.length * p) - 1)];

async function listOnce() {
  return timed(async () => {
    await page.goto(base + "/");
    await page.waitForSelector('body[data-loaded="list"]', { timeout: 120000 });
  });
}
const coldList = await listOnce();
const rows = await page.$$eval("#sessions tbody tr", (r) => r.length);
const warm = [];
for (let i = 0; i < 5; i++) warm.push(await listOnce());

async function firstFrame() {
  return timed(async () => {
    await page.goto(base + "/session.html?id=" + process.env.BIG_ID);
    await page.waitForSelector('body[data-loaded="player"]', { timeout: 60000 });
    await page.evaluate(() => window.ttyaudit.player.play());
    await page.waitForFunction(() => /line \d/.test(document.querySelector(".ap-term-text").textContent),
      null, { timeout: 60000, polling: 20 });
  });
}
const frames = [];
for (let i = 0; i < 3; i++) frames.push(await firstFrame());
const bytesFetched = await page.evaluate(() =>
  performance.getEntriesByType("resource").filter((e) => e.name.includes("/cast"))
    .reduce((n, e) => n + e.encodedBodySize + 0, 0));

// From a word typed into the running session to that word on the live page of `at`.
async function liveDelays(at) {
  const out = [];
  await page.goto(at + "/live.html?id=" + process.env.LIVE_ID);
  await page.waitForSelector('body[data-loaded="live"]', { timeout: 20000 });
  for (let i = 0; i < parseInt(process.env.LIVE_SAMPLES, 10); i++) {
    const word = "w" + i + "x" + Date.now();
    const t0 = performance.now();
    execSync(process.env.LIVE_TYPE + " 'echo " + word + "' Enter");
    await page.waitForFunction((w) => document.querySelector(".xterm-rows").textContent.includes(w),
      word, { timeout: 20000, polling: 10 });
    out.push(Math.round(performance.now() - t0));
    await page.waitForTimeout(200);
  }
  return out;
}
const live = process.env.LIVE_ID ? await liveDelays(base) : [];
const liveBucket = process.env.LIVE_ID && process.env.LIVE_BUCKET_URL
  ? await liveDelays(process.env.LIVE_BUCKET_URL) : [];
const liveFigures = (xs, target) => xs.length
  ? { samples: xs.length, p50_ms: pct(xs, 0.5), p95_ms: pct(xs, 0.95), all_ms: xs, target_ms: target }
  : null;
await browser.close();

console.log(JSON.stringify({
  benchmark: "serve",
  browser: "Debian chromium, headless, playwright-core",
  store: "s3rver (npm, pinned) on loopback",
  list: { sessions: parseInt(process.env.SESSIONS, 10), rows_on_first_page: rows,
    first_page_ms_fresh_catalog: coldList, first_page_ms_warm_median: median(warm), warm_ms: warm,
    target_ms: 1000 },
  first_frame: { session_mib: parseInt(process.env.BIG_MIB, 10), ms: frames, median_ms: median(frames),
    bytes_fetched_last: bytesFetched, target_ms: 2000 },
  live_from_spool: liveFigures(live, 1000),
  live_from_bucket: liveFigures(liveBucket, 3000),
}));
