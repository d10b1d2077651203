// What the demo's plain-Node unit tests share: importing a file of web/js (not a Node package,
// so a copy named .mjs is imported), and a list of named checks that ends the process with
// a non-zero status if any failed.

import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));

/** The module web/js/<file>, which must import nothing itself. */
export async function importWeb(file) {
  const tmp = mkdtempSync(join(tmpdir(), 'skirmish-web-'));
  try {
    const copy = join(tmp, file.replace(/\.js$/, '.mjs'));
    copyFileSync(resolve(HERE, '../../web/js', file), copy);
    return await import(pathToFileURL(copy).href);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

let failed = 0;

/** Runs one named check, printing ok or not ok with the reason. */
export function check(name, fn) {
  try {
    fn();
    console.log(`ok - ${name}`);
  } catch (e) {
    failed++;
    console.log(`not ok - ${name}\n  ${e.message}`);
  }
}

/** Ends the run: exit status 1 if a check failed. */
export function finish() {
  if (failed) {
    console.log(`${failed} failed`);
    process.exit(1);
  }
  console.log('all passed');
}
