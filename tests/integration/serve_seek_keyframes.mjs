// For serve_seek_keyframes.sh: in Chromium, open a large session's replay, move to its part
// PART, and check that the player's first frame there shows MARKER, drawn before that part.
import { chromium } from "playwright-core";

const browser = await chromium.launch({ executablePath: "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"] });
const page = await (await browser.newContext({ viewport: { width: 1400, height: 900 } })).newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(String(e)));
await page.goto(process.env.SERVE_URL + "/session.html?id=" + process.env.ID);
await page.waitForSelector('body[data-loaded="player"]', { timeout: 30000 });
const part = parseInt(process.env.PART, 10);
await page.evaluate(() => { document.body.dataset.loaded = ""; });
await page.selectOption("#part", { index: part });
await page.waitForSelector('body[data-loaded="player"]', { timeout: 30000 });
await page.evaluate(() => window.ttyaudit.player.seek(0.01));
await page.waitForFunction((m) => {
  const t = document.querySelector(".ap-term-text");
  return t && t.textContent.includes(m);
}, process.env.MARKER, { timeout: 15000 });
console.log("ok: part " + (part + 1) + " opens with the line drawn at the start of the session");
if (errors.length) throw new Error("FAIL: script errors: " + errors.join("; "));
await browser.close();
