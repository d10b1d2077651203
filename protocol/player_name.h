// What a player's name may be: it is drawn above a sprite and in the kill feed, so it must
// show something, must not hide or garble the text around it, and has a fixed size. Used
// for a `join` and for players restored from the state file alike.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace skirmish::protocol {

// Names longer than this many characters are cut, a character being a code point with the
// combining marks on it: 24 letters in any script (a limit of bytes, as before, left an
// Arabic or Chinese name half as long as a Latin one) ...
constexpr std::size_t kMaxNameChars = 24;
// ... and never more bytes than this (24 characters of 4 bytes; marks can make more).
constexpr std::size_t kMaxNameBytes = 96;
// More combining marks than this on one character are dropped ("Zalgo" text stacks dozens
// of them to draw over the lines above and below).
constexpr int kMaxCombiningMarks = 2;

// The name as it will be shown: characters that draw nothing or reorder text dropped
// (controls, zero-width and format characters, bidi overrides, fillers, tags), excess
// combining marks dropped, spaces trimmed, cut at kMaxNameChars (or kMaxNameBytes). Empty when nothing
// visible is left (only spaces, marks or fillers): such a name is refused. `raw` must be
// valid UTF-8 (the JSON parser and the WebSocket layer both check).
std::string clean_player_name(std::string_view raw);

}  // namespace skirmish::protocol
