#include "meshid/policy/path.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "boost/url/grammar/hexdig_chars.hpp"
#include "boost/url/parse.hpp"

namespace meshid::policy {
namespace {

bool IsUnreserved(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_' ||
         c == '~';
}

// DecodeUnreserved decodes the escapes of unreserved characters in one segment that Boost.URL
// already validated, and upper-cases the hex of the others (RFC 3986 section 6.2.2).
// Boost.URL 1.81's own url::normalize_path() cannot be used: it also decodes "%2F" (an escaped
// slash, which must stay one segment), and leaves "/.." above the root in place.
std::string DecodeUnreserved(absl::string_view segment) {
  std::string out;
  out.reserve(segment.size());
  for (size_t i = 0; i < segment.size(); ++i) {
    // Boost.URL validated the segment: every '%' is followed by two hex digits.
    if (segment[i] != '%' || i + 2 >= segment.size()) {
      out.push_back(segment[i]);
      continue;
    }
    int hi = boost::urls::grammar::hexdig_value(segment[i + 1]);
    int lo = boost::urls::grammar::hexdig_value(segment[i + 2]);
    char decoded = static_cast<char>(hi * 16 + lo);
    if (IsUnreserved(decoded)) {
      out.push_back(decoded);
    } else {
      absl::StrAppend(&out, "%", absl::AsciiStrToUpper(segment.substr(i + 1, 2)));
    }
    i += 2;
  }
  return out;
}

}  // namespace

NormalizedPath NormalizePath(absl::string_view target) {
  NormalizedPath result;
  // Envoy strips a fragment; the query never takes part in path matching.
  absl::string_view path = target.substr(0, target.find('#'));
  boost::system::result<boost::urls::url_view> parsed =
      boost::urls::parse_origin_form(boost::core::string_view(path.data(), path.size()));
  if (!parsed) {
    result.status = NormalizedPath::Status::kInvalid;
    result.detail = absl::StrCat("not a valid request path (", parsed.error().message(), ")");
    return result;
  }
  std::vector<std::string> stack;
  bool trailing_slash = false;
  for (boost::urls::pct_string_view encoded : parsed->encoded_segments()) {
    std::string segment = DecodeUnreserved(absl::string_view(encoded.data(), encoded.size()));
    trailing_slash = segment.empty() || segment == "." || segment == "..";
    if (segment == ".") continue;
    if (segment == "..") {
      if (stack.empty()) {
        result.status = NormalizedPath::Status::kEscapesRoot;
        result.detail = "the path climbs above the root with \"..\"";
        return result;
      }
      stack.pop_back();
      continue;
    }
    stack.push_back(std::move(segment));  // empty segments count here, as in Envoy
  }
  std::vector<std::string> kept;
  for (std::string& s : stack) {
    if (!s.empty()) kept.push_back(std::move(s));  // merge_slashes
  }
  result.path =
      absl::StrCat("/", absl::StrJoin(kept, "/"), trailing_slash && !kept.empty() ? "/" : "");
  return result;
}

}  // namespace meshid::policy
