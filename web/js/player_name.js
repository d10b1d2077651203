// The server's rule for names (protocol/player_name.cpp), so that the name field stops where
// the server would cut rather than the name being cut after the join: 24 characters (a
// combining mark counts with the letter before it), at most 96 bytes of UTF-8, a letter and
// its marks kept or dropped whole; characters the server drops do not count. The ranges are
// the server's own: keep the two in step.

export const NAME_CHARS = 24;
export const NAME_BYTES = 96;
const MAX_MARKS = 2;

// Dropped outright: controls, zero-width, format and bidi characters, fillers, tags.
const DROPPED = [
  [0x00, 0x1F], [0x7F, 0x9F], [0xAD, 0xAD], [0x34F, 0x34F], [0x61C, 0x61C],
  [0x115F, 0x1160], [0x17B4, 0x17B5], [0x180B, 0x180F], [0x200B, 0x200F], [0x2028, 0x202E],
  [0x2060, 0x206F], [0x3164, 0x3164], [0xFEFF, 0xFEFF], [0xFFA0, 0xFFA0], [0xFFF0, 0xFFFB],
  [0x1BCA0, 0x1BCA3], [0x1D173, 0x1D17A], [0xE0000, 0xE0FFF],
];
// Spaces of every width and the braille blank: kept, but nothing for a mark to sit on.
const BLANK = [
  [0x20, 0x20], [0xA0, 0xA0], [0x1680, 0x1680], [0x2000, 0x200A],
  [0x202F, 0x202F], [0x205F, 0x205F], [0x2800, 0x2800], [0x3000, 0x3000],
];
// Marks drawn on the character before them: at most MAX_MARKS in a row.
const COMBINING = [
  [0x300, 0x36F], [0x483, 0x489], [0x591, 0x5BD], [0x610, 0x61A], [0x64B, 0x65F],
  [0x1AB0, 0x1AFF], [0x1DC0, 0x1DFF], [0x20D0, 0x20FF], [0xFE00, 0xFE0F], [0xFE20, 0xFE2F],
];

const inRanges = (cp, ranges) => ranges.some(([lo, hi]) => cp >= lo && cp <= hi);
const utf8Length = (cp) => (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);

/**
 * `s` as far as the server would keep it, with what it drops taken out. Spaces at either end
 * are kept (the server trims them; trimming as you type would eat the space just typed), so
 * they count here: the field is at most as long as the server allows, never longer.
 */
export function clipName(s) {
  let out = '', bytes = 0, chars = 0, marks = 0, hasBase = false, cluster = 0;
  for (const ch of s) {
    const cp = ch.codePointAt(0);
    if (inRanges(cp, DROPPED)) continue;
    const mark = inRanges(cp, COMBINING);
    if (mark) {
      if (!hasBase || ++marks > MAX_MARKS) continue;
    } else {
      marks = 0;
      cluster = out.length;
      hasBase = !inRanges(cp, BLANK);
    }
    const len = utf8Length(cp);
    if (bytes + len > NAME_BYTES) {
      if (mark) out = out.slice(0, cluster);  // a letter whose marks do not all fit goes whole
      break;
    }
    if (!mark && ++chars > NAME_CHARS) break;
    out += ch;
    bytes += len;
  }
  return out;
}
