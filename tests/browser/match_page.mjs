// End-to-end check of the web page in a real headless Chromium (Debian's package).
// usage: node match_page.mjs BASE_URL PHOTO SCREENSHOT.png
// Prints one JSON object: what the page shows after the upload.
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
  await page.screenshot({ path: screenshot, fullPage: true });
  console.log(JSON.stringify({ ...shown, consoleErrors }));
} finally {
  await browser.close();
}
