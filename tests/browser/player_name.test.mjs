// Unit test of the demo's name clipping (web/js/player_name.js): it stops where the server
// cuts (protocol/player_name.cpp, whose tests hold the same cases), so a name is never cut
// after the join.
//
//   node tests/browser/player_name.test.mjs
//
// Plain Node 18+, no dependencies. Exits non-zero if anything failed.

import assert from 'node:assert/strict';
import { check, finish, importWeb } from './web_module.mjs';

const { clipName, NAME_CHARS, NAME_BYTES } = await importWeb('player_name.js');

const bytes = (s) => new TextEncoder().encode(s).length;
const ACUTE = '\u0301';
const GRIN = '\u{1F600}';

check('24 characters in any script, the 25th not', () => {
  assert.equal(NAME_CHARS, 24);
  assert.equal(clipName('x'.repeat(100)), 'x'.repeat(24));
  for (const c of ['é', '€', GRIN]) {
    assert.equal(clipName('a'.repeat(23) + c), 'a'.repeat(23) + c);
    assert.equal(clipName('a'.repeat(24) + c), 'a'.repeat(24));
  }
  // The play-test's names, whole (a 24-byte cut halved them).
  assert.equal(clipName('محارب الظلام القوي جدا'), 'محارب الظلام القوي جدا');
  assert.equal(clipName('李小龍的徒弟天下無敵'), '李小龍的徒弟天下無敵');
  assert.equal(clipName(GRIN.repeat(25)), GRIN.repeat(24));  // 96 bytes
});

check('a combining mark counts with its letter; more than two in a row are dropped', () => {
  const accented = ('e' + ACUTE).repeat(24);
  assert.equal(clipName(accented + 'z'), accented);
  assert.equal(clipName('e' + ACUTE + ACUTE + ACUTE + 'x'), 'e' + ACUTE + ACUTE + 'x');
  assert.equal(clipName(ACUTE + 'a'), 'a');  // nothing to sit on
});

check('out of bytes, a letter goes whole with its marks', () => {
  const five = ('e' + ACUTE + ACUTE).repeat(24);  // 5 bytes a letter
  assert.equal(clipName(five), five.slice(0, 19 * 3));
  assert.ok(bytes(clipName(five)) <= NAME_BYTES);
  const eight = (GRIN + ACUTE + ACUTE).repeat(24);  // 8 bytes a letter
  assert.equal(bytes(clipName(eight)), 96);
});

check('what the server drops neither counts nor stays', () => {
  assert.equal(clipName('\u200b'.repeat(10) + 'n'.repeat(30)), 'n'.repeat(24));
  assert.equal(clipName('a\u202eb\u0000c'), 'abc');
  // Spaces are kept as typed (the server trims the ends): they count.
  assert.equal(clipName(' '.repeat(30)), ' '.repeat(24));
});

finish();
