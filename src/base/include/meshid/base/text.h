#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace meshid::base {

// Printable returns `text` safe to show on a terminal or in a one-line message: valid UTF-8
// passes unchanged, while control characters (newlines and escape sequences included) and
// bytes that are not valid UTF-8 become "\xNN". Certificate fields come from peers; printing
// them raw would let a certificate forge output lines or drive the terminal.
std::string Printable(absl::string_view text);

// Utf8SequenceLength returns the length of the valid UTF-8 sequence at the start of `s`, or
// 0 when it does not start with one (RFC 3629: no overlongs, no surrogates, <= U+10FFFF).
// `s` must not be empty.
size_t Utf8SequenceLength(absl::string_view s);

}  // namespace meshid::base
