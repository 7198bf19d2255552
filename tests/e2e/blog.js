// Browser test of the blog pages (run by tests/integration/0070-web-browser.py):
//   node blog.js BASE_URL SCREENSHOT_DIR DOCS_SCREENSHOT_DIR MODE
// Headless Debian Chromium through playwright-core. MODE (see 0070): noworker, main, brokerdown.
// Prints one line per check; exits 1 on the first failure.
"use strict";
const { chromium } = require("playwright-core");

const [base, shots, docs, mode] = process.argv.slice(2);
const scale = Number(process.env.TEST_TIMEOUT_SCALE || 1);
const T = (ms) => ms * scale;

function check(cond, what) {
  console.log((cond ? "ok   " : "FAIL ") + what);
  if (!cond) throw new Error("check failed: " + what);
}

async function submit(page, title, content, author, lang) {
  await page.goto(base + "/" + (lang ? "?lang=" + lang : ""));
  await page.fill("#f-title", title);
  await page.fill("#f-content", content);
  if (author) await page.fill("#f-author", author);
  await Promise.all([page.waitForURL(/\/posts\/[0-9A-Z]{26}/, { timeout: T(20000) }),
                     page.click("button[type=submit]")]);
  return page.url().match(/\/posts\/([0-9A-Z]{26})/)[1];
}

async function verdict(page) {
  await page.waitForSelector("article[data-status]:not([data-status=queued]) [data-role=status]:not(.status-queued)",
                             { timeout: T(30000) });
  // the page is fetched again in place: wait until its reasons are there too
  await page.waitForSelector("#verdict .score-help", { timeout: T(10000) });
  return (await page.getAttribute("article.post-page", "data-status"));
}

// A text of words no other post has: never a near-duplicate of anything.
function unique(n, seed) {
  const words = ["river", "lamp", "orange", "window", "pencil", "garden", "silver", "cloud", "engine", "violin",
                 "harbor", "meadow", "copper", "ticket", "lantern", "puzzle", "saddle", "walnut", "basket", "candle"];
  let x = seed * 7919 + 17, out = [];
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) % 2147483648; out.push(words[x % words.length]); }
  return out.join(" ") + ".";
}

async function noworker(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  await submit(page, "Waiting for a worker", "Nobody will score this post until a worker starts. It waits.", "Ann");
  await page.waitForSelector("[data-role=hint].warn", { timeout: T(10000) });
  const hint = (await page.textContent("[data-role=hint]")).trim();
  check(/No worker is running/.test(hint) && /queue/.test(hint), "no worker: the post page says so: " + hint);
  await page.goto(base + "/");
  await page.waitForSelector("#tile-workers.alert", { timeout: T(10000) });
  check((await page.textContent("#stat-workers")).trim() === "0", "no worker: 'workers alive 0' stands out");
  await page.screenshot({ path: shots + "/front-no-worker.png", fullPage: true });
  await ctx.close();
}

async function main(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 }, locale: "en-US",
                                         timezoneId: "Asia/Tokyo" });
  const page = await ctx.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => {
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
  });
  await page.goto(base + "/");
  check(await page.isVisible("#post-form"), "the front page shows the form");
  check(await page.isVisible("#stat-review"), "the queue panel has a review tile");

  // --- the verdict arrives live and replaces the queued notice
  const text = "This post was written by a headless browser on a quiet afternoon. It has a few sentences " +
    "about testing web pages. The worker scores it and the page shows the verdict without a reload.";
  const first = await submit(page, "Hello from Chromium", text, "Robot");
  check((await page.textContent("#queued-notice")).includes("Post sent to the queue for creation"), "the queued notice");
  await page.evaluate(() => { window.__samsaMarker = "same-document"; });
  const st1 = await verdict(page);
  check(await page.evaluate(() => window.__samsaMarker) === "same-document", "the verdict appeared without a reload");
  check(st1 === "published", "a good post is published (" + st1 + ")");
  check(await page.isHidden("#queued-notice"), "the queued notice is gone once the verdict is in");
  check(/published, score \d+/.test(await page.textContent("#verdict-notice")), "the verdict replaces it: " +
        (await page.textContent("#verdict-notice")).trim());
  check(/starts with 100 points/.test(await page.textContent(".score-help")), "the page says what the score means");
  const title = await page.getAttribute("time", "title");
  check(/UTC$/.test(title) && !/UTC/.test(await page.textContent("time")), "local time, UTC in the tooltip (" + title + ")");

  // --- a near-duplicate: rejected, in words, with a link to the post it copies
  const dup = await submit(page, "Hello again", text.replace("quiet", "sunny"), "Robot");
  check(await verdict(page) === "rejected", "a repost with one word changed is rejected");
  check(await page.isVisible("#verdict-notice.status-rejected"), "... the red verdict replaces the green notice");
  const reason = (await page.textContent("[data-code=NEAR_DUPLICATE]")).trim();
  check(/Almost the same text as an earlier post: \d+% of its phrases match/.test(reason) && /−100/.test(reason),
        "the reason in plain words with its points: " + reason);
  check((await page.getAttribute("[data-role=duplicate-of]", "href")).startsWith("/posts/" + first),
        "... linking the copied post");
  check(!/SimHash|distance/.test(reason) && !reason.includes(first), "... no raw id or SimHash");
  await page.screenshot({ path: docs + "/post-en.png", fullPage: true });
  await page.goto(base + "/posts/" + dup + "?lang=ru");
  const ruReason = (await page.textContent("[data-code=NEAR_DUPLICATE]")).trim();
  check(/Почти тот же текст, что в более раннем посте: совпадает \d+% фраз/.test(ruReason), "in Russian: " + ruReason);
  check(/от 70 — публикация/.test(await page.textContent(".score-help")), "... and the score explained in Russian");

  // --- Russian reasons: a one-word post is short, not "hard to read"
  const ru = await ctx.newPage();
  await submit(ru, "Коротко", "Коротко.", "", "ru");
  await verdict(ru);
  const short = (await ru.textContent("[data-code=TOO_SHORT]")).trim();
  check(/Очень коротко: 1 слово/.test(short) && /−25/.test(short), "Russian reason with its points: " + short);
  check(await ru.locator("[data-code=HARD_TO_READ]").count() === 0, "'Коротко.' is not called hard to read");
  check(!/[a-z]{4,}/i.test(await ru.textContent("#verdict")), "no English on the Russian verdict");
  await ru.close();

  // --- the feed: no rejected posts, a filter for them, excerpts, safe links
  await page.goto(base + "/");
  check(await page.locator(`#feed [data-id="${dup}"]`).count() === 0, "the rejected repost is not in the feed");
  check(await page.locator(`#feed [data-id="${first}"] .excerpt`).count() === 1, "feed entries have an excerpt");
  await page.click("#rejected-link");
  await page.waitForSelector(`#feed [data-id="${dup}"]`, { timeout: T(10000) });
  check(true, "... and the rejected filter shows it");
  const linked = await submit(page, "Two links", "Read https://example.org/page?a=1&b=2. Not a link: javascript:alert(1) " +
    "and <b>no tags</b> either. The rest is plain text for the reader.", "");
  const a = page.locator('.content a[href="https://example.org/page?a=1&b=2"]');
  check(await a.count() === 1 && (await a.getAttribute("rel")) === "nofollow ugc noopener", "http(s) links are links, rel=nofollow ugc noopener");
  check(await page.locator('.content a[href^="javascript"]').count() === 0 && await page.locator(".content b").count() === 0,
        "... and nothing else becomes markup");

  // --- the queue panel follows every event: a new post shows as queued at once
  await page.goto(base + "/");
  await page.waitForSelector("#live.live:not([hidden])", { timeout: T(10000) });
  // the earlier posts are scored first: with one still queued, its verdict and the new post
  // would cancel out in the count
  await page.waitForFunction(() => document.querySelector("#stat-queued").textContent === "0", null,
                             { timeout: T(20000) });
  const queuedBefore = Number(await page.textContent("#stat-queued"));
  const posted = await page.evaluate(async (body) => {
    const r = await fetch("/api/posts", { method: "POST", headers: { "Content-Type": "application/json" }, body });
    return (await r.json()).id;
  }, JSON.stringify({ title: "Counted at once", content: unique(40, 1) }));
  await page.waitForSelector(`#feed [data-id="${posted}"]`, { timeout: T(10000) });
  const t0 = Date.now();
  await page.waitForFunction((n) => Number(document.getElementById("stat-queued").textContent) > n, queuedBefore,
                             { timeout: T(1500) });
  check(true, `the queued count follows the new post within ${Date.now() - t0} ms (not the next heartbeat)`);
  await page.waitForFunction(() => document.querySelector("#stat-queued").textContent === "0" &&
                                   document.querySelector("#stat-lag").textContent === "0", null, { timeout: T(20000) });
  check(true, "... and queued and lag go back to 0 after the verdict");
  await page.screenshot({ path: docs + "/front-en.png", fullPage: true });

  // --- the language is remembered
  const ctx2 = await browser.newContext({ viewport: { width: 1100, height: 900 }, locale: "en-US" });
  const p2 = await ctx2.newPage();
  await p2.goto(base + "/?lang=ru");
  await p2.goto(base + "/");
  check((await p2.getAttribute("html", "lang")) === "ru", "?lang=ru is remembered on the next visit");
  await p2.screenshot({ path: docs + "/front-ru.png", fullPage: true });
  await p2.goto(base + "/posts/" + first);
  await p2.screenshot({ path: docs + "/post-ru.png", fullPage: true });
  await ctx2.close();

  // --- paging: 51 more posts; the first page has 50 and an older link to the rest, no overlap
  await page.evaluate(async (texts) => {
    for (const [i, content] of texts.entries())
      await fetch("/api/posts", { method: "POST", headers: { "Content-Type": "application/json" },
                                  body: JSON.stringify({ title: "Paging " + i, content }) });
  }, Array.from({ length: 51 }, (_, i) => unique(30, i + 100)));
  await page.goto(base + "/");
  const page1 = await page.$$eval("#feed li.post", (els) => els.map((e) => e.getAttribute("data-id")));
  check(page1.length === 50 && await page.isVisible("#older-link"), `the first page: 50 posts and an older link (${page1.length})`);
  await page.click("#older-link");
  await page.waitForSelector("#newest-link");
  const page2 = await page.$$eval("#feed li.post", (els) => els.map((e) => e.getAttribute("data-id")));
  check(page2.length > 0 && !page2.some((id) => page1.includes(id)), `the older page continues (${page2.length} posts, none repeated)`);
  check(errors.length === 0, "no script errors or CSP violations (" + errors.join("; ") + ")");
  await ctx.close();

  // --- JavaScript off: the page refreshes itself until the verdict is there
  const nojs = await browser.newContext({ javaScriptEnabled: false });
  const p3 = await nojs.newPage();
  await submit(p3, "No JavaScript", unique(25, 7), "");
  check((await p3.textContent("#queued-notice")).includes("Post sent to the queue"), "no JS: queued notice");
  await p3.waitForSelector("#verdict-notice", { timeout: T(90000) });
  check(true, "no JS: the verdict arrives through the meta refresh and replaces the notice");
  await nojs.close();
}

async function brokerdown(browser) {
  const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } });
  const page = await ctx.newPage();
  await page.goto(base + "/");
  await page.waitForSelector("#stats-warning:not([hidden])", { timeout: T(15000) });
  check((await page.textContent("#stat-lag")).trim() === "—" && (await page.textContent("#stat-workers")).trim() === "—",
        "broker down: lag and workers show '—', not old numbers");
  await page.waitForSelector("#live.broker_down", { timeout: T(15000) });
  check(/broker/.test(await page.textContent("#live")), "... and the badge is not a green 'live'");
  await page.screenshot({ path: shots + "/front-broker-down.png", fullPage: true });
  await ctx.close();
}

(async () => {
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    // without --disable-background-networking Chromium hangs on a network that reaches nothing
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  let failed = false;
  try {
    if (mode === "noworker") await noworker(browser);
    else if (mode === "brokerdown") await brokerdown(browser);
    else await main(browser);
  } catch (e) {
    console.log("FAIL " + e.message);
    failed = true;
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
})();
