// How far the demo's prediction of your own player is off from the server, over a scripted
// walk with starts, turns and stops (docs/benchmarks.md, "Your own player's prediction").
//
//   node bench/prediction_error.mjs http://127.0.0.1:PORT [label] [seconds]
//
// Drives Debian's chromium headless through the test suite's playwright-core
// (tests/browser/node_modules: `npm ci` there first), joins, walks, and prints one JSON line:
// the comparisons of a server position with the prediction, their mean and largest error in
// world units (window.skirmish.predictionErrors), the turns walked and the page's round trip.
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(resolve(dirname(fileURLToPath(import.meta.url)), '../tests/browser/package.json'));
const { chromium } = require('playwright-core');
const [origin, label = 'run', seconds = '20'] = process.argv.slice(2);
if (!origin) {
  console.error('usage: node bench/prediction_error.mjs http://127.0.0.1:PORT [label] [seconds]');
  process.exit(2);
}
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  page.on('console', (m) => { if (m.type() === 'error') console.error('console error:', m.text()); });
  await page.goto(origin + '/');
  await page.waitForFunction(() => window.skirmish && window.skirmish.connection === 'open');
  await page.fill('#name', 'predictor');
  await page.click('#play');
  await page.waitForFunction(() => window.skirmish.joined && window.skirmish.me);
  await page.waitForTimeout(1000);
  const before = await page.evaluate(() => window.skirmish.predictionErrors);
  // Starts, turns and stops, in and around the camp at the centre (monsters stay out of it).
  const pattern = [['d', 500], [null, 400], ['w', 300], ['a', 450], [null, 300], ['s', 350], ['d', 250],
    ['w', 600], [null, 500], ['a', 400], ['s', 300], [null, 400]];
  const start = Date.now();
  let turns = 0;
  while (Date.now() - start < Number(seconds) * 1000) {
    for (const [key, ms] of pattern) {
      if (key) await page.keyboard.down(key);
      await page.waitForTimeout(ms);
      if (key) await page.keyboard.up(key);
      turns++;
    }
  }
  await page.waitForTimeout(1500);
  const after = await page.evaluate(() => window.skirmish.predictionErrors);
  const rtt = await page.evaluate(() => window.skirmish.rttMs);
  const n = after.count - before.count;
  console.log(JSON.stringify({ label, comparisons: n, mean: +((after.sum - before.sum) / n).toFixed(3),
    max: +after.max.toFixed(2), turns, rtt_ms: rtt }));
} finally {
  await browser.close();
}
