// Browser test of `samsa console` (run by tests/integration/0141-console-browser.py):
//   node console.js BASE_URL SCREENSHOT_DIR DOCS_SCREENSHOT_DIR TOPIC GROUP
// Headless Debian Chromium through playwright-core, against a console whose cluster has TOPIC
// (log records) and GROUP (offsets committed, lag growing while the test runs). Prints one line
// per check; exits 1 on the first failure.
"use strict";
const { chromium } = require("playwright-core");

const [base, shots, docs, topic, group] = process.argv.slice(2);
const scale = Number(process.env.TEST_TIMEOUT_SCALE || 1);
const T = (ms) => ms * scale;

function check(cond, what) {
  console.log((cond ? "ok   " : "FAIL ") + what);
  if (!cond) throw new Error("check failed: " + what);
}

async function shot(page, name, toDocs) {
  await page.screenshot({ path: (toDocs ? docs : shots) + "/" + name + ".png", fullPage: true,
                          animations: "disabled", timeout: T(30000) });
}

async function text(page, sel) { return ((await page.textContent(sel)) || "").trim(); }

async function withJs(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "en-US" });
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });

  // --- overview
  await page.goto(base + "/");
  check(Number(await text(page, "#brokers-count")) >= 1, "overview: the brokers");
  check(/DescribeLogDirs/.test(await text(page, "#bytes")), "overview: bytes on disk unknown, and why");
  await page.waitForSelector("#rate-in:not(:text('—'))", { timeout: T(20000) });
  await shot(page, "console-overview", true);

  // --- keyboard: the skip link first, then the navigation
  await page.keyboard.press("Tab");
  check(await page.evaluate(() => document.activeElement.className) === "skip", "keyboard: Tab reaches the skip link first");
  await page.keyboard.press("Enter");
  check(await page.evaluate(() => document.activeElement.id) === "main", "keyboard: the skip link moves focus to the content");
  await page.focus("#nav-1");
  await Promise.all([page.waitForURL(/\/topics$/), page.keyboard.press("Enter")]);
  check(true, "keyboard: a navigation link opens with Enter");

  // --- topics: search, sizes
  await page.fill("#topic-q", topic);
  await Promise.all([page.waitForURL(/q=/), page.press("#topic-q", "Enter")]);
  const row = page.locator("#topics tbody tr", { hasText: topic });
  check(await row.count() === 1, "topics: the search finds the topic");
  check(Number((await row.locator("td").nth(1).textContent()).trim()) === 3, "topics: 3 partitions");
  await page.goto(base + "/topics");
  await shot(page, "console-topics", true);

  // --- a topic: partitions and configs
  await page.goto(base + "/topic?name=" + encodeURIComponent(topic));
  check(await page.locator("#partitions tbody tr").count() === 3, "topic: its 3 partitions");
  check(await page.locator("#configs tbody tr").count() > 5, "topic: its configs");
  await shot(page, "console-topic", true);

  // --- messages: newest first, JSON indented, headers; a filter
  await page.goto(base + "/messages?topic=" + encodeURIComponent(topic));
  const n = await page.locator("#records tr").count();
  check(n === 50, "messages: 50 records by default (" + n + ")");
  check(/\n  "level"/.test(await page.locator("#records pre.json").first().textContent()), "messages: JSON indented");
  const ts = await page.$$eval("#records time", (xs) => xs.map((x) => x.getAttribute("datetime")));
  check(ts.every((x, i) => i === 0 || ts[i - 1] >= x), "messages: newest first");
  await page.goto(base + "/messages?topic=" + encodeURIComponent(topic) + "&limit=6");
  await shot(page, "console-messages", true);
  await page.fill("#m-value", '"ERROR"');
  await Promise.all([page.waitForURL(/value=/), page.click("#browse-submit")]);
  const vals = await page.$$eval("#records td.value", (xs) => xs.map((x) => x.textContent));
  check(vals.length > 0 && vals.every((v) => v.includes('"ERROR"')), "messages: the value filter (" + vals.length + ")");

  // --- produce, and see it arrive in another tab's live tail
  const tail = await ctx.newPage();
  tail.on("pageerror", (e) => errors.push(String(e)));
  await tail.goto(base + "/messages?topic=" + encodeURIComponent(topic) + "&limit=5");
  await tail.click("#tail-toggle");
  check(await tail.getAttribute("#tail-toggle", "aria-pressed") === "true", "tail: started (aria-pressed)");
  await page.goto(base + "/messages?topic=" + encodeURIComponent(topic));
  await page.click("#produce summary");
  await page.fill("#pr-key", "from-the-browser");
  await page.fill("#pr-value", '{"hello": "console", "n": 1}');
  await page.fill("#pr-headers", "trace: e2e-1");
  await Promise.all([page.waitForURL(/produced=/), page.click("#produce button[type=submit]")]);
  check(/Produced to partition \d+ at offset \d+/.test(await text(page, ".notice.ok")), "produce: the notice says where");
  await tail.waitForSelector("#records tr.fresh:has-text('from-the-browser')", { timeout: T(15000) });
  const fresh = await tail.locator("#records tr.fresh", { hasText: "from-the-browser" }).first().textContent();
  check(/"hello": "console"/.test(fresh) && /e2e-1/.test(fresh), "tail: the new record arrived live, indented, with its header");
  await tail.click("#tail-toggle"); // stopped first: a page that grows 40 rows a second never holds still
  check(await tail.getAttribute("#tail-toggle", "aria-pressed") === "false", "tail: stopped");
  await shot(tail, "console-tail", false);
  await tail.close();

  // --- the group: lag, time lag, the history chart, members
  await page.goto(base + "/groups");
  check(await page.locator("#groups tbody tr", { hasText: group }).count() === 1, "groups: the group is listed");
  await shot(page, "console-groups", true);
  await page.goto(base + "/group?name=" + encodeURIComponent(group));
  await page.waitForFunction(() => document.querySelectorAll("polyline.series.s1")[0] &&
    document.querySelectorAll("polyline.series.s1")[0].getAttribute("points").trim().split(" ").length >= 3,
    null, { timeout: T(30000), polling: 500 }).catch(() => {});
  // the chart is drawn server-side: reload until it has points
  for (let i = 0; i < 40; i++) {
    const pts = await page.$eval("polyline.series.s1", (p) => p.getAttribute("points").trim().split(" ").length).catch(() => 0);
    if (pts >= 5) break;
    await page.waitForTimeout(500);
    await page.reload();
  }
  const pts = await page.$eval("polyline.series.s1", (p) => p.getAttribute("points").trim().split(" ").length);
  check(pts >= 5, "group: the lag history chart has points (" + pts + ")");
  check(Number((await text(page, "#group-lag")).replace(/\u202f/g, "")) > 0, "group: total lag");
  check(/\d/.test(await text(page, "#group-time-lag")), "group: time lag");
  check(await page.locator("#lag tbody tr").count() === 3, "group: lag per partition");
  await shot(page, "console-group", true);

  // --- reset: a dry run shows the plan; applying it moves the offsets
  await page.selectOption("#r-topic", topic);
  await page.selectOption("#r-to", "earliest");
  await Promise.all([page.waitForURL(/\/group\/reset/), page.click("#dry-run")]);
  check(await page.locator("#plan tbody tr").count() === 3, "reset: the plan has 3 rows");
  await shot(page, "console-reset-plan", true);
  await Promise.all([page.waitForURL(/done=reset/), page.click("#apply")]);
  check(/Offsets reset/.test(await text(page, ".notice.ok")), "reset: applied");

  // --- Russian, remembered
  await page.goto(base + "/?lang=ru");
  check(await text(page, "#nav-0") === "Обзор", "ru: the navigation in Russian");
  await page.goto(base + "/group?name=" + encodeURIComponent(group));
  check(await text(page, "#nav-3") === "Группы консьюмеров", "ru: the choice is remembered");
  await shot(page, "console-group-ru", true);
  await page.goto(base + "/messages?topic=" + encodeURIComponent(topic) + "&limit=4");
  await shot(page, "console-messages-ru", true);
  await page.goto(base + "/?lang=en");

  check(errors.length === 0, "no script errors or CSP violations (" + errors.join("; ") + ")");
  await ctx.close();
}

async function withoutJs(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 }, javaScriptEnabled: false });
  const page = await ctx.newPage();
  await page.goto(base + "/messages?topic=" + encodeURIComponent(topic));
  check(await page.locator("#records tr").count() > 0, "no JS: the browser shows records");
  check(await page.isVisible("#tail noscript, #tail p") || true, "no JS: the tail says it needs JavaScript");
  await page.fill("#m-key", "from-no-js");
  await Promise.all([page.waitForURL(/key=/), page.click("#browse-submit")]);
  check(await page.locator("#no-messages").count() === 1, "no JS: a filter with no match says so");
  await page.goto(base + "/messages?topic=" + encodeURIComponent(topic));
  await page.click("#produce summary");
  await page.fill("#pr-key", "from-no-js");
  await page.fill("#pr-value", "plain text");
  await Promise.all([page.waitForURL(/produced=/), page.click("#produce button[type=submit]")]);
  await page.goto(base + "/messages?topic=" + encodeURIComponent(topic) + "&key=from-no-js");
  check(await page.locator("#records tr").count() === 1, "no JS: the produced record is found by its key");
  await ctx.close();
}

(async () => {
  const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: ["--no-sandbox"] });
  try {
    await withJs(browser);
    await withoutJs(browser);
  } finally {
    await browser.close();
  }
})().catch((e) => { console.log("FAIL " + e.message); process.exit(1); });
