// Terminal safety: what specd prints as text may carry bytes from spec files,
// file names or --actor. Control characters (ESC, BEL, CSI, OSC title
// sequences, C1) are shown escaped, never sent to the terminal, whether or
// not it is one. JSON output is escaped by the JSON writer.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>

namespace specd::cli {

// `text` with every C0 control but tab (and newline when `keep_newlines`),
// DEL, each C1 control (U+0080..U+009F) and every byte that is not part of
// valid UTF-8 escaped: "\x1b", "\x7f", "\u009b", "\xff". Backslashes stay as
// they are; everything else is unchanged.
std::string Printable(std::string_view text, bool keep_newlines = false);

// Printable(text, true) and a newline, to `out`.
void PrintLine(std::FILE* out, std::string_view text);

}  // namespace specd::cli
