#include "meshid/policy/model.h"

#include <cstring>

#include <arpa/inet.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"

namespace meshid::policy {

bool WorkloadSelector::Matches(const Labels& labels) const {
  for (const auto& [key, value] : match_labels) {
    auto it = labels.find(key);
    if (it == labels.end() || it->second != value) return false;
  }
  return true;
}

StringMatch StringMatch::Parse(absl::string_view pattern) {
  StringMatch m;
  m.pattern_ = std::string(pattern);
  if (pattern == "*") {
    m.kind_ = Kind::kPresence;
  } else if (absl::StartsWith(pattern, "*")) {
    m.kind_ = Kind::kSuffix;
    m.operand_ = std::string(pattern.substr(1));
  } else if (absl::EndsWith(pattern, "*")) {
    m.kind_ = Kind::kPrefix;
    m.operand_ = std::string(pattern.substr(0, pattern.size() - 1));
  } else {
    m.kind_ = Kind::kExact;
    m.operand_ = m.pattern_;
  }
  return m;
}

bool StringMatch::Matches(absl::string_view value, bool ignore_case) const {
  switch (kind_) {
    case Kind::kPresence:
      return !value.empty();
    case Kind::kExact:
      return ignore_case ? absl::EqualsIgnoreCase(value, operand_) : value == operand_;
    case Kind::kPrefix:
      return ignore_case ? absl::StartsWithIgnoreCase(value, operand_)
                         : absl::StartsWith(value, operand_);
    case Kind::kSuffix:
      return ignore_case ? absl::EndsWithIgnoreCase(value, operand_)
                         : absl::EndsWith(value, operand_);
  }
  return false;
}

std::optional<IpAddress> IpAddress::Parse(absl::string_view text) {
  std::string s(text);
  IpAddress ip;
  in_addr v4;
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    ip.v4 = true;
    ip.bytes[10] = 0xff;
    ip.bytes[11] = 0xff;
    std::memcpy(ip.bytes.data() + 12, &v4, 4);
    return ip;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    std::memcpy(ip.bytes.data(), &v6, 16);
    return ip;
  }
  return std::nullopt;
}

std::optional<IpBlock> IpBlock::Parse(absl::string_view text) {
  IpBlock block;
  block.text = std::string(text);
  size_t slash = text.find('/');
  std::optional<IpAddress> address = IpAddress::Parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  block.address = *address;
  int max_bits = address->v4 ? 32 : 128;
  int bits = max_bits;
  if (slash != absl::string_view::npos) {
    absl::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 || !absl::ascii_isdigit(digits[0]) ||
        !absl::SimpleAtoi(digits, &bits) || bits < 0 || bits > max_bits) {
      return std::nullopt;
    }
  }
  block.prefix_bits = address->v4 ? bits + 96 : bits;
  return block;
}

bool IpBlock::Contains(const IpAddress& ip) const {
  int bits = prefix_bits;
  for (size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
    uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
    if ((ip.bytes[i] & mask) != (address.bytes[i] & mask)) return false;
  }
  return true;
}

absl::string_view MtlsModeName(MtlsMode mode) {
  switch (mode) {
    case MtlsMode::kUnset:
      return "UNSET";
    case MtlsMode::kDisable:
      return "DISABLE";
    case MtlsMode::kPermissive:
      return "PERMISSIVE";
    case MtlsMode::kStrict:
      return "STRICT";
  }
  return "UNSET";
}

absl::string_view TlsModeName(TlsMode mode) {
  switch (mode) {
    case TlsMode::kUnset:
      return "UNSET";
    case TlsMode::kDisable:
      return "DISABLE";
    case TlsMode::kSimple:
      return "SIMPLE";
    case TlsMode::kMutual:
      return "MUTUAL";
    case TlsMode::kIstioMutual:
      return "ISTIO_MUTUAL";
  }
  return "UNSET";
}

bool IsHttpOnly(Attribute attribute) {
  switch (attribute) {
    case Attribute::kRequestPrincipal:
    case Attribute::kRequestAudience:
    case Attribute::kRequestPresenter:
    case Attribute::kRequestClaim:
    case Attribute::kHost:
    case Attribute::kMethod:
    case Attribute::kPath:
    case Attribute::kHeader:
      return true;
    default:
      return false;
  }
}

}  // namespace meshid::policy
