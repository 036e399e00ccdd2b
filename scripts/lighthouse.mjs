// Lighthouse (mobile, default throttling) on each URL, in one headless Debian Chromium:
//   node scripts/lighthouse.mjs <out-dir> <url>...   writes <out-dir>/<n>.json, one report per URL
import { mkdirSync, writeFileSync } from "node:fs";
import * as chromeLauncher from "chrome-launcher";
import lighthouse from "lighthouse";

const [outDir, ...urls] = process.argv.slice(2);
mkdirSync(outDir, { recursive: true });
const chrome = await chromeLauncher.launch({
  chromePath: process.env.CHROME_PATH || "/usr/bin/chromium",
  // no background requests to Google's hosts (this machine has no network but the registries)
  chromeFlags: ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
try {
  for (const [i, url] of urls.entries()) {
    const result = await lighthouse(url, { port: chrome.port, output: "json", logLevel: "error" });
    writeFileSync(`${outDir}/${i}.json`, result.report);
  }
} finally {
  await chrome.kill();
}
