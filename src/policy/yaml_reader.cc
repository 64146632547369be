#include "yaml_reader.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace meshid::policy::internal {

absl::Status ReadContext::Spend(size_t n, const std::string& path) {
  if (n > budget) {
    return FieldError(path, "the document expands to more than a million elements (YAML aliases?)");
  }
  budget -= n;
  return absl::OkStatus();
}

void ReadContext::Note(const std::string& text) {
  if (notes != nullptr) notes->push_back(absl::StrCat(source, ": ", text));
}

std::string Field(const std::string& path, absl::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
}

std::string Index(const std::string& path, size_t i) { return absl::StrCat(path, "[", i, "]"); }

absl::Status FieldError(const std::string& path, absl::string_view message) {
  if (path.empty()) return absl::InvalidArgumentError(message);
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", message));
}

bool IsAbsent(const YAML::Node& node) { return !node.IsDefined() || node.IsNull(); }

absl::Status CheckFields(const YAML::Node& node, const std::string& path,
                         std::initializer_list<absl::string_view> known) {
  if (IsAbsent(node)) return absl::OkStatus();
  if (!node.IsMap()) return FieldError(path, "expected a map");
  std::set<std::string> seen;
  for (const auto& item : node) {
    if (!item.first.IsScalar()) return FieldError(path, "field names must be plain strings");
    const std::string& key = item.first.Scalar();
    bool ok = false;
    for (absl::string_view k : known) ok = ok || k == key;
    if (!ok) {
      return FieldError(
          Field(path, key),
          absl::StrCat("unknown field (known here: ", absl::StrJoin(known, ", "), ")"));
    }
    if (!seen.insert(key).second) return FieldError(Field(path, key), "field given twice");
  }
  return absl::OkStatus();
}

absl::Status ExpectList(const YAML::Node& node, const std::string& path) {
  if (IsAbsent(node) || node.IsSequence()) return absl::OkStatus();
  return FieldError(path, "expected a list");
}

absl::StatusOr<std::string> ReadString(const YAML::Node& node, const std::string& path) {
  if (!node.IsScalar()) return FieldError(path, "expected a string");
  return node.Scalar();
}

absl::StatusOr<std::vector<std::string>> ReadStringList(const YAML::Node& node,
                                                        const std::string& path, ReadContext& ctx) {
  std::vector<std::string> out;
  if (IsAbsent(node)) return out;
  if (!node.IsSequence()) return FieldError(path, "expected a list of strings");
  if (absl::Status s = ctx.Spend(node.size(), path); !s.ok()) return s;
  for (const auto& item : node) {
    if (!item.IsScalar()) return FieldError(path, "expected a list of strings");
    out.push_back(item.Scalar());
  }
  return out;
}

absl::StatusOr<Labels> ReadStringMap(const YAML::Node& node, const std::string& path,
                                     ReadContext& ctx) {
  Labels out;
  if (IsAbsent(node)) return out;
  if (!node.IsMap()) return FieldError(path, "expected a map of strings");
  if (absl::Status s = ctx.Spend(node.size(), path); !s.ok()) return s;
  for (const auto& item : node) {
    if (!item.first.IsScalar() || !(item.second.IsScalar() || item.second.IsNull())) {
      return FieldError(path, "expected a map of strings");
    }
    std::string value = item.second.IsNull() ? "" : item.second.Scalar();
    if (!out.emplace(item.first.Scalar(), value).second) {
      return FieldError(Field(path, item.first.Scalar()), "given twice");
    }
  }
  return out;
}

absl::StatusOr<uint32_t> ReadPortText(absl::string_view text, const std::string& path,
                                      uint32_t min) {
  uint32_t port = 0;
  bool digits = !text.empty() && text.size() <= 5;
  for (char c : text) digits = digits && absl::ascii_isdigit(static_cast<unsigned char>(c));
  if (!digits || !absl::SimpleAtoi(text, &port) || port < min || port > 65535) {
    return FieldError(path, absl::StrCat("\"", text, "\" is not a port number (", min, "-65535)"));
  }
  return port;
}

}  // namespace meshid::policy::internal
