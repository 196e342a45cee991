// End-to-end check of the web page in a real headless Chromium (Debian's package).
// usage: node match_page.mjs BASE_URL PHOTO SCREENSHOT.png
// Prints one JSON object: what the page shows after the upload, then after the shopper's
// feedback (👍 on the first card, twice; 👎 on the second; the third opened in a new tab).
import { chromium } from "playwright-core";

const [base, photo, screenshot] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  // The machine's network is closed: without these Chromium keeps trying to reach Google.
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 1400 } });
  const consoleErrors = [];
  page.on("pageerror", (e) => consoleErrors.push(String(e)));
  await page.goto(base + "/", { waitUntil: "load" });
  await page.setInputFiles("#image", photo);
  await page.fill("#context", "cosy reading corner");
  await page.selectOption("#k", "10");
  await page.click("#submit");
  await page.waitForSelector("#cards .card", { timeout: 120000 });
  await page.waitForFunction(() => !document.querySelector("#submit").disabled);
  const shown = await page.evaluate(() => ({
    status: document.querySelector("#status").textContent,
    statusIsError: document.querySelector("#status").classList.contains("error"),
    room: document.querySelector("#room").textContent,
    style: document.querySelector("#style").textContent,
    swatches: [...document.querySelectorAll("#swatches .swatch span")].map((s) => s.style.background),
    cards: [...document.querySelectorAll("#cards .card")].map((c) => ({
      id: c.dataset.id,
      description: c.querySelector(".desc").textContent,
      score: c.querySelector(".score").textContent,
      reason: c.querySelector(".reason").textContent,
      hasThumb: !!c.querySelector(".thumb img, .thumb .placeholder"),
    })),
  }));
  // Let failed thumbnails fall back to their placeholders before the picture is taken.
  await page.waitForTimeout(500);

  const feedback = { error: null, responses: [], link: null, opened: null };
  page.on("response", async (r) => {
    if (r.url().endsWith("/v1/feedback")) {
      const body = await r.json().catch(() => null);
      feedback.responses.push({ status: r.status(), body, request: r.request().postDataJSON() });
    }
  });
  const card = (i) => page.locator("#cards .card").nth(i);
  // The card confirms once the server recorded the event.
  const confirmed = (i, attr, value) => page.waitForFunction(
    ([i, attr, value]) => document.querySelectorAll("#cards .card")[i]?.getAttribute(attr) === value,
    [i, attr, value], { timeout: 10000 });
  try {
    // 👍 twice in a row, then once more after it went through: one event to the server (one event_id).
    await card(0).getByRole("button", { name: "Good fit — save" }).dblclick({ timeout: 10000 });
    await confirmed(0, "data-feedback", "save");
    const again = page.waitForResponse((r) => r.url().endsWith("/v1/feedback"), { timeout: 10000 });
    await card(0).getByRole("button", { name: "Good fit — save" }).click();
    await again;
    await card(1).getByRole("button", { name: "Doesn’t fit — dismiss" }).click({ timeout: 10000 });
    await confirmed(1, "data-feedback", "dismiss");
    // Opening a card: its link opens a new tab (rel=noopener: the context sees it, not as a popup).
    // The link is the photo, or the record once the photo turned out unreadable (which may be now).
    feedback.link = await card(2).locator("a.open:has(.desc)").getAttribute("href");
    const [tab] = await Promise.all([
      page.context().waitForEvent("page", { timeout: 10000 }),
      card(2).locator("a.open .desc").click({ timeout: 10000 }),
    ]);
    await tab.waitForLoadState("load").catch(() => {});
    feedback.opened = tab.url();
    await tab.close();
    await confirmed(2, "data-opened", "true");
  } catch (err) {
    feedback.error = String(err).slice(0, 2000);
  }
  const after = await page.evaluate(() => ({
    statusAfter: document.querySelector("#status").textContent,
    statusAfterIsError: document.querySelector("#status").classList.contains("error"),
    feedbackCards: [...document.querySelectorAll("#cards .card")].map((c) => ({
      id: c.dataset.id,
      matchId: c.dataset.matchId || null,
      feedback: c.dataset.feedback || null,
      opened: c.dataset.opened === "true",
      note: c.querySelector(".fb-note") ? c.querySelector(".fb-note").textContent : null,
      buttons: [...c.querySelectorAll(".feedback button")].map((b) => ({
        event: b.dataset.event, label: b.getAttribute("aria-label"), title: b.title,
        pressed: b.getAttribute("aria-pressed"), visible: b.offsetParent !== null,
      })),
      link: c.querySelector("a.open") ? c.querySelector("a.open").getAttribute("href") : null,
    })),
    sessionId: localStorage.getItem("scenefit-session-id"),
  }));
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ ...shown, ...after, feedback, consoleErrors }));
} finally {
  await browser.close();
}
