#include "meshid/pki/spiffe_id.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace meshid::pki {
namespace {

constexpr absl::string_view kScheme = "spiffe://";

// Quote shows the offending input, shortened so that an error stays on one line.
std::string Quote(absl::string_view s) {
  constexpr size_t kMax = 96;
  if (s.size() <= kMax) return absl::StrCat("\"", s, "\"");
  return absl::StrCat("\"", s.substr(0, kMax), "...\"");
}

absl::Status IdError(absl::string_view id, absl::string_view rule) {
  return absl::InvalidArgumentError(absl::StrCat("invalid SPIFFE ID ", Quote(id), ": ", rule));
}

bool IsTrustDomainChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

bool IsPathChar(char c) {
  return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_';
}

std::string ShowChar(char c) {
  if (absl::ascii_isprint(static_cast<unsigned char>(c)))
    return absl::StrCat("'", std::string(1, c), "'");
  return absl::StrCat("byte 0x", absl::Hex(static_cast<unsigned char>(c)));
}

// TrustDomainRule returns "" when `td` is a valid trust domain name, else the broken rule.
std::string TrustDomainRule(absl::string_view td) {
  if (td.empty()) return "trust domain is missing";
  if (td.size() > kMaxTrustDomainBytes) {
    return absl::StrCat("trust domain is longer than ", kMaxTrustDomainBytes, " bytes");
  }
  for (char c : td) {
    if (IsTrustDomainChar(c)) continue;
    if (c == ':') return "trust domain must not include a port (':')";
    if (c == '@') return "trust domain must not include userinfo ('@')";
    if (c == '%') return "percent-encoding is not allowed";
    if (absl::ascii_isupper(static_cast<unsigned char>(c))) {
      return "trust domain must be lowercase (letters, digits, '.', '-', '_')";
    }
    return absl::StrCat(
        "trust domain characters are limited to lowercase letters, digits, '.', '-' and '_' "
        "(found ",
        ShowChar(c), ")");
  }
  return "";
}

// PathRule returns "" when `path` (empty or starting with '/') is a valid SPIFFE ID path.
std::string PathRule(absl::string_view path) {
  if (path.empty()) return "";
  if (path.back() == '/') return "path must not end with '/'";
  for (absl::string_view segment : absl::StrSplit(path.substr(1), '/')) {
    if (segment.empty()) return "path must not contain empty segments (\"//\")";
    if (segment == "." || segment == "..") {
      return "path must not contain '.' or '..' segments";
    }
    for (char c : segment) {
      if (IsPathChar(c)) continue;
      if (c == '%') return "percent-encoding is not allowed";
      return absl::StrCat(
          "path segment characters are limited to letters, digits, '.', '-' and '_' (found ",
          ShowChar(c), ")");
    }
  }
  return "";
}

}  // namespace

absl::StatusOr<TrustDomain> TrustDomain::Parse(absl::string_view name_or_id) {
  if (absl::StrContains(name_or_id, ":/")) {
    absl::StatusOr<SpiffeId> id = SpiffeId::Parse(name_or_id);
    if (!id.ok()) return id.status();
    return id->trust_domain();
  }
  if (std::string rule = TrustDomainRule(name_or_id); !rule.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid trust domain ", Quote(name_or_id), ": ", rule));
  }
  return TrustDomain(std::string(name_or_id));
}

std::string TrustDomain::IdString() const { return absl::StrCat(kScheme, name_); }

absl::StatusOr<SpiffeId> SpiffeId::Parse(absl::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError("invalid SPIFFE ID: it is empty");
  if (id.size() > kMaxSpiffeIdBytes) {
    return IdError(id, absl::StrCat("longer than ", kMaxSpiffeIdBytes, " bytes"));
  }
  if (!absl::StartsWith(id, kScheme)) {
    if (absl::StartsWithIgnoreCase(id, kScheme)) {
      return IdError(id, "scheme must be lowercase \"spiffe\"");
    }
    return IdError(id, "must start with the scheme \"spiffe://\"");
  }
  absl::string_view rest = id.substr(kScheme.size());
  if (rest.find('?') != absl::string_view::npos) return IdError(id, "query ('?') is not allowed");
  if (rest.find('#') != absl::string_view::npos) {
    return IdError(id, "fragment ('#') is not allowed");
  }
  size_t slash = rest.find('/');
  absl::string_view td = rest.substr(0, slash);
  absl::string_view path = slash == absl::string_view::npos ? "" : rest.substr(slash);
  if (std::string rule = TrustDomainRule(td); !rule.empty()) return IdError(id, rule);
  if (std::string rule = PathRule(path); !rule.empty()) return IdError(id, rule);
  return SpiffeId(TrustDomain(std::string(td)), std::string(path));
}

absl::StatusOr<SpiffeId> SpiffeId::FromPath(const TrustDomain& trust_domain,
                                            absl::string_view path) {
  if (!path.empty() && path[0] != '/') {
    return absl::InvalidArgumentError(
        absl::StrCat("invalid SPIFFE ID path ", Quote(path), ": must start with '/'"));
  }
  return Parse(absl::StrCat(trust_domain.IdString(), path));
}

std::string SpiffeId::ToString() const {
  return absl::StrCat(kScheme, trust_domain_.name(), path_);
}

}  // namespace meshid::pki
