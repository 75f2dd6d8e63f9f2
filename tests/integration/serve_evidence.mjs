// For serve_evidence.sh: in Chromium, the list and the replay page show the evidence of GOOD
// (verified) and BAD (edited in the bucket: FAILED, with verify's reason), as text.
import { chromium } from "playwright-core";

function check(cond, what) {
  if (!cond) throw new Error("FAIL: " + what);
  console.log("ok: " + what);
}
const base = process.env.SERVE_URL;
const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"] });
const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));

await page.goto(base + "/");
await page.waitForSelector('body[data-loaded="list"][data-verified="list"]', { timeout: 30000 });
const cell = (id) => page.$eval(`#sessions tbody tr[data-id="${id}"] td.evidence`,
  (td) => ({ text: td.textContent, state: td.dataset.state, elements: td.children.length }));
const good = await cell(process.env.GOOD), bad = await cell(process.env.BAD);
check(good.state === "verified" && good.text.startsWith("verified"), "the list: the untouched session is verified (" + good.text + ")");
check(bad.state === "failed" && bad.text.startsWith("FAILED") && bad.text.includes("does not match its chain line"),
  "the list: the edited session FAILED with the reason (" + bad.text + ")");
check(bad.elements === 0, "the reason is text, no element");

await page.goto(base + "/session.html?id=" + process.env.BAD);
await page.waitForSelector('#evidence[data-state="failed"]', { timeout: 30000 });
const shown = await page.textContent("#evidence");
check(shown.startsWith("FAILED") && shown.includes("does not match its chain line"),
  "the replay page: FAILED with the reason (" + shown + ")");
await page.goto(base + "/session.html?id=" + process.env.GOOD);
await page.waitForSelector('#evidence[data-state="verified"]', { timeout: 30000 });
check(true, "the replay page: the untouched session is verified");
check(errors.length === 0, "no script error" + (errors.length ? ": " + errors.join("; ") : ""));
await browser.close();
