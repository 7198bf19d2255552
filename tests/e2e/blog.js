// Browser test of the blog page (run by tests/integration/0070-web-browser.py):
//   node blog.js BASE_URL SCREENSHOT_DIR
// Headless Debian Chromium through playwright-core. With JavaScript on: fill the form, submit,
// see the queued notice, then see the verdict and score appear on the same page WITHOUT a
// reload (Server-Sent Events). With JavaScript off: the same form works and the page refreshes
// itself until the verdict is there. Prints one line per check; exits 1 on the first failure.
"use strict";
const { chromium } = require("playwright-core");

const base = process.argv[2];
const shots = process.argv[3];
const scale = Number(process.env.TEST_TIMEOUT_SCALE || 1);

function check(cond, what) {
  console.log((cond ? "ok   " : "FAIL ") + what);
  if (!cond) throw new Error("check failed: " + what);
}

async function submit(page, title, content, author) {
  await page.goto(base + "/");
  await page.fill("#f-title", title);
  await page.fill("#f-content", content);
  if (author) await page.fill("#f-author", author);
  await Promise.all([page.waitForURL(/\/posts\/[0-9A-Z]{26}/, { timeout: 20000 * scale }),
                     page.click("button[type=submit]")]);
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
    // --- JavaScript on: live update without reload
    const ctx = await browser.newContext({ viewport: { width: 1100, height: 900 } });
    const page = await ctx.newPage();
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    // HTTP errors the test provokes (422) show up as "Failed to load resource"; count the rest
    page.on("console", (m) => {
      if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) errors.push(m.text());
    });
    await page.goto(base + "/");
    check((await page.title()).length > 0, "the front page loads");
    check(await page.isVisible("#post-form"), "it shows the form");
    await page.screenshot({ path: shots + "/front-empty.png", fullPage: true });

    await submit(page, "Hello from Chromium",
      "This post was written by a headless browser. It has a few sentences. The worker scores it.", "Robot");
    const notice = await page.textContent("#queued-notice");
    check(notice.includes("Post sent to the queue for creation"), "the queued notice: " + notice.trim());
    const first = await page.getAttribute("[data-role=status]", "class");
    check(/status-queued/.test(first), "the status starts as queued (" + first + ")");
    await page.evaluate(() => { window.__samsaMarker = "same-document"; });
    await page.waitForSelector("article [data-role=status]:not(.status-queued)", { timeout: 30000 * scale });
    const marker = await page.evaluate(() => window.__samsaMarker);
    check(marker === "same-document", "the verdict appeared without a reload");
    const status = (await page.textContent("article [data-role=status]")).trim();
    const score = (await page.textContent("article [data-role=score]")).trim();
    check(["published", "review", "rejected"].includes(status), "status: " + status);
    check(/\d+/.test(score), "score: " + score);
    check(await page.isHidden("[data-role=hint]"), "the 'scoring' hint is gone");
    await page.screenshot({ path: shots + "/post-verdict.png", fullPage: true });

    await page.goto(base + "/");
    const feedStatus = (await page.textContent("#feed li.post [data-role=status]")).trim();
    check(feedStatus === status, "the feed shows the post with its status");
    await page.waitForSelector("#live:not([hidden])", { timeout: 10000 * scale });
    check(true, "the live indicator is on");
    await page.screenshot({ path: shots + "/front-feed.png", fullPage: true });

    // validation error next to its field, input kept
    await page.fill("#f-content", "No title here");
    await Promise.all([page.waitForLoadState("load"), page.click("button[type=submit]")]);
    await page.waitForSelector("#title-error");
    check((await page.inputValue("#f-content")) === "No title here", "a validation error keeps the input");
    check(errors.length === 0, "no script errors or CSP violations (" + errors.join("; ") + ")");

    // Russian
    const ru = await ctx.newPage();
    await ru.goto(base + "/?lang=ru");
    check((await ru.getAttribute("#f-author", "placeholder")) === "Аноним", "?lang=ru: Russian page");
    await ru.screenshot({ path: shots + "/front-ru.png", fullPage: true });
    await ctx.close();

    // --- JavaScript off: the page refreshes itself until the verdict is there
    const nojs = await browser.newContext({ javaScriptEnabled: false });
    const p2 = await nojs.newPage();
    await submit(p2, "No JavaScript", "Written with scripts turned off. The page reloads itself.", "");
    check((await p2.textContent("#queued-notice")).includes("Post sent to the queue"), "no JS: queued notice");
    await p2.waitForSelector("article [data-role=status]:not(.status-queued)", { timeout: 30000 * scale });
    check(true, "no JS: the verdict arrives through the meta refresh");
    await nojs.close();
  } catch (e) {
    console.log("FAIL " + e.message);
    failed = true;
  } finally {
    await browser.close();
  }
  process.exit(failed ? 1 : 0);
})();
