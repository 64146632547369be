#pragma once

#include <string>

#include "absl/strings/string_view.h"

namespace meshid::base {

// Printable returns `text` safe to show on a terminal or in a one-line message: valid UTF-8
// passes unchanged, while control characters (newlines and escape sequences included) and
// bytes that are not valid UTF-8 become "\xNN". Certificate fields come from peers; printing
// them raw would let a certificate forge output lines or drive the terminal.
std::string Printable(absl::string_view text);

}  // namespace meshid::base
