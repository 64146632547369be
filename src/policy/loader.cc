#include "meshid/policy/loader.h"

#include <algorithm>
#include <filesystem>
#include <optional>
#include <set>
#include <sstream>
#include <tuple>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "meshid/base/files.h"
#include "meshid/base/status.h"
#include "meshid/base/text.h"
#include "parse.h"
#include "yaml-cpp/depthguard.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/parser.h"
#include "yaml_reader.h"

namespace meshid::policy {
namespace {

using internal::CheckFields;
using internal::Field;
using internal::FieldError;
using internal::Index;
using internal::IsAbsent;
using internal::ReadContext;
using internal::ReadString;

// FirstBinaryByte returns the offset of the first byte that cannot be in YAML text (a control
// character other than tab and line breaks, or invalid UTF-8), or npos.
size_t FirstBinaryByte(absl::string_view text) {
  for (size_t i = 0; i < text.size();) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    size_t n = base::Utf8SequenceLength(text.substr(i));
    if (n == 0 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f) return i;
    i += n;
  }
  return absl::string_view::npos;
}

absl::StatusOr<ObjectMeta> ParseMeta(const YAML::Node& node, const std::string& path,
                                     ReadContext& ctx) {
  if (IsAbsent(node)) return FieldError(Field(path, "name"), "is required");
  MESHID_RETURN_IF_ERROR(CheckFields(
      node, path,
      {"name", "namespace", "labels", "annotations", "creationTimestamp", "uid", "resourceVersion",
       "generation", "managedFields", "ownerReferences", "finalizers", "generateName",
       "deletionTimestamp", "deletionGracePeriodSeconds", "selfLink"}));
  ObjectMeta meta;
  std::string name_path = Field(path, "name");
  if (IsAbsent(node["name"])) return FieldError(name_path, "is required");
  MESHID_ASSIGN_OR_RETURN(meta.name, ReadString(node["name"], name_path));
  if (meta.name.empty()) return FieldError(name_path, "must not be empty");
  if (!IsAbsent(node["namespace"])) {
    std::string ns_path = Field(path, "namespace");
    MESHID_ASSIGN_OR_RETURN(meta.namespace_name, ReadString(node["namespace"], ns_path));
    if (meta.namespace_name.empty()) return FieldError(ns_path, "must not be empty");
  }
  if (!IsAbsent(node["creationTimestamp"])) {
    std::string ts_path = Field(path, "creationTimestamp");
    MESHID_ASSIGN_OR_RETURN(std::string text, ReadString(node["creationTimestamp"], ts_path));
    absl::Time t;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
      return FieldError(ts_path, absl::StrCat("\"", text,
                                              "\" is not an RFC 3339 time "
                                              "(e.g. 2024-05-01T12:00:00Z)"));
    }
    meta.creation_timestamp = t;
  }
  MESHID_ASSIGN_OR_RETURN(meta.labels,
                          internal::ReadStringMap(node["labels"], Field(path, "labels"), ctx));
  MESHID_ASSIGN_OR_RETURN(
      meta.annotations,
      internal::ReadStringMap(node["annotations"], Field(path, "annotations"), ctx));
  return meta;
}

// DocumentReader reads the objects of one YAML document into `set` (AddText's staging set,
// kept only when every document of the source reads).
class DocumentReader {
 public:
  DocumentReader(ReadContext& ctx, size_t& order, PolicySet& set)
      : ctx_(ctx), order_(order), set_(set) {}

  absl::Status Object(const YAML::Node& node, const std::string& path, bool in_list) {
    if (!node.IsMap()) {
      return FieldError(path, "expected a Kubernetes object (a map with apiVersion and kind)");
    }
    std::string api_path = Field(path, "apiVersion");
    std::string kind_path = Field(path, "kind");
    if (IsAbsent(node["apiVersion"])) return FieldError(api_path, "is required");
    if (IsAbsent(node["kind"])) return FieldError(kind_path, "is required");
    MESHID_ASSIGN_OR_RETURN(std::string api, ReadString(node["apiVersion"], api_path));
    MESHID_ASSIGN_OR_RETURN(std::string kind, ReadString(node["kind"], kind_path));
    // kubectl writes `kind: List`; typed lists (AuthorizationPolicyList) read the same way.
    if ((kind == "List" && api == "v1") || (absl::EndsWith(kind, "List") && node["items"])) {
      if (in_list) return FieldError(kind_path, "a List inside a List is not supported");
      MESHID_RETURN_IF_ERROR(CheckFields(node, path, {"apiVersion", "kind", "metadata", "items"}));
      std::string items_path = Field(path, "items");
      MESHID_RETURN_IF_ERROR(internal::ExpectList(node["items"], items_path));
      if (IsAbsent(node["items"])) return absl::OkStatus();
      MESHID_RETURN_IF_ERROR(ctx_.Spend(node["items"].size(), items_path));
      for (size_t i = 0; i < node["items"].size(); ++i) {
        MESHID_RETURN_IF_ERROR(Object(node["items"][i], Index(items_path, i), true));
      }
      return absl::OkStatus();
    }
    size_t slash = api.find('/');
    std::string group = slash == std::string::npos ? "" : api.substr(0, slash);
    std::string version = slash == std::string::npos ? api : api.substr(slash + 1);
    bool security = group == "security.istio.io" &&
                    (kind == "PeerAuthentication" || kind == "AuthorizationPolicy");
    bool networking = group == "networking.istio.io" && kind == "DestinationRule";
    if (!security && !networking) {
      std::string where = path.empty() ? "" : absl::StrCat(path, ": ");
      ctx_.Note(absl::StrCat(where, "kind ", kind, " (", api, ") skipped"));
      return absl::OkStatus();
    }
    bool version_ok = security ? (version == "v1" || version == "v1beta1")
                               : (version == "v1" || version == "v1beta1" || version == "v1alpha3");
    if (!version_ok) {
      return FieldError(api_path,
                        absl::StrCat("\"", api, "\" is not a supported version of ", kind,
                                     security ? " (v1 or v1beta1)" : " (v1, v1beta1 or v1alpha3)"));
    }
    MESHID_RETURN_IF_ERROR(
        CheckFields(node, path, {"apiVersion", "kind", "metadata", "spec", "status"}));
    MESHID_ASSIGN_OR_RETURN(ObjectMeta meta,
                            ParseMeta(node["metadata"], Field(path, "metadata"), ctx_));
    meta.source = path.empty() ? ctx_.source : absl::StrCat(ctx_.source, " ", path);
    meta.load_order = order_++;
    std::string spec_path = Field(path, "spec");
    const YAML::Node& spec = node["spec"];
    if (kind == "PeerAuthentication") {
      PeerAuthentication pa;
      pa.meta = std::move(meta);
      MESHID_RETURN_IF_ERROR(internal::ParsePeerAuthentication(spec, spec_path, ctx_, pa));
      set_.peer_authentications.push_back(std::move(pa));
    } else if (kind == "AuthorizationPolicy") {
      AuthorizationPolicy ap;
      ap.meta = std::move(meta);
      MESHID_RETURN_IF_ERROR(internal::ParseAuthorizationPolicy(spec, spec_path, ctx_, ap));
      set_.authorization_policies.push_back(std::move(ap));
    } else {
      DestinationRule dr;
      dr.meta = std::move(meta);
      MESHID_RETURN_IF_ERROR(internal::ParseDestinationRule(spec, spec_path, ctx_, dr));
      set_.destination_rules.push_back(std::move(dr));
    }
    return absl::OkStatus();
  }

 private:
  ReadContext& ctx_;
  size_t& order_;
  PolicySet& set_;
};

template <typename T>
void Append(std::vector<T>& to, std::vector<T>& from) {
  for (T& item : from) to.push_back(std::move(item));
}

// OrderKey sorts oldest first: a timestamp before none, then load order.
template <typename T>
auto OrderKey(const T& p) {
  const ObjectMeta& m = p.meta;
  return std::make_tuple(!m.creation_timestamp.has_value(),
                         m.creation_timestamp.value_or(absl::InfinitePast()), m.load_order);
}

// SortAndNote orders `items` oldest first and notes an object defined twice. Both copies are
// kept: Istio's documentation shows related policies under one name (the PeerAuthentication
// reference's namespace and workload policies are both foo/default), and evaluating what
// the files say is what `policy eval` is for; `kubectl apply` would keep only the last.
template <typename T>
void SortAndNote(std::vector<T>& items, absl::string_view kind, std::vector<std::string>& notes) {
  std::map<std::string, const ObjectMeta*> seen;
  for (const T& item : items) {
    auto [it, inserted] = seen.emplace(item.meta.FullName(), &item.meta);
    if (!inserted) {
      notes.push_back(absl::StrCat(item.meta.source, ": ", kind, " ", item.meta.FullName(),
                                   kAlsoDefinedIn, it->second->source,
                                   "; both are evaluated, but kubectl apply keeps only the last"));
    }
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const T& a, const T& b) { return OrderKey(a) < OrderKey(b); });
}

// DocumentStarts records where each document starts and builds nothing.
class DocumentStarts : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  YAML::Mark start;
};

// FindStuckToken returns where yaml-cpp 0.7's LoadAll would never end, or nullopt. A token
// that cannot start a node at the top level (the ',' of ",", "{}," or "...\n,") is never
// consumed, and LoadAll appends a null document per turn until memory runs out
// (jbeder/yaml-cpp#1040, fixed after 0.8.0; found by src/policy/fuzz). This pass builds
// nothing and stops at a document that starts where the previous one did. It throws what
// LoadAll would throw.
std::optional<YAML::Mark> FindStuckToken(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts handler;
  int previous = -1;
  while (parser.HandleNextDocument(handler)) {
    if (handler.start.pos == previous) return handler.start;
    previous = handler.start.pos;
  }
  return std::nullopt;
}

}  // namespace

absl::Status Loader::AddText(absl::string_view text, absl::string_view source) {
  if (size_t bad = FirstBinaryByte(text); bad != absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not YAML text (binary data at byte ", bad, ")"));
  }
  std::vector<YAML::Node> docs;
  std::string yaml(text);
  // yaml-cpp reports errors by throwing; this is the edge where they become a Status.
  try {
    if (std::optional<YAML::Mark> stuck = FindStuckToken(yaml)) {
      return absl::InvalidArgumentError(absl::StrCat(
          source, ": not valid YAML: line ", stuck->line + 1, ", column ", stuck->column + 1,
          ": unexpected '", yaml.substr(static_cast<size_t>(stuck->pos), 1), "'"));
    }
    docs = YAML::LoadAll(yaml);
  } catch (const YAML::DeepRecursion& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        source, ": line ", e.mark.line + 1, ": YAML nested too deeply (", e.depth(), " levels)"));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not valid YAML: line ",
                                                   e.mark.line + 1, ", column ", e.mark.column + 1,
                                                   ": ", e.msg));
  }
  bool any = false;
  std::vector<std::string> notes;
  PolicySet added;
  size_t order = next_order_;
  for (size_t i = 0; i < docs.size(); ++i) {
    if (IsAbsent(docs[i])) continue;  // an empty document between two `---`
    any = true;
    ReadContext ctx;
    ctx.notes = &notes;
    ctx.source = absl::StrCat(source, " doc ", i + 1);
    DocumentReader reader(ctx, order, added);
    absl::Status s;
    try {
      s = reader.Object(docs[i], "", false);
    } catch (const YAML::Exception& e) {
      s = absl::InvalidArgumentError(absl::StrCat("unreadable YAML: ", e.msg));
    }
    if (!s.ok()) return base::Annotate(s, ctx.source);
  }
  if (!any)
    return absl::InvalidArgumentError(absl::StrCat(source, ": is empty (no YAML document)"));
  next_order_ = order;
  Append(result_.policies.peer_authentications, added.peer_authentications);
  Append(result_.policies.authorization_policies, added.authorization_policies);
  Append(result_.policies.destination_rules, added.destination_rules);
  Append(result_.notes, notes);
  return absl::OkStatus();
}

LoadResult Loader::Finish() && {
  SortAndNote(result_.policies.peer_authentications, "PeerAuthentication", result_.notes);
  SortAndNote(result_.policies.authorization_policies, "AuthorizationPolicy", result_.notes);
  SortAndNote(result_.policies.destination_rules, "DestinationRule", result_.notes);
  return std::move(result_);
}

absl::StatusOr<LoadResult> LoadPolicyFiles(const std::vector<std::string>& paths) {
  namespace fs = std::filesystem;
  Loader loader;
  for (const std::string& path : paths) {
    std::vector<std::string> files;
    if (base::IsDirectory(path)) {
      std::error_code ec;
      for (const fs::directory_entry& entry : fs::directory_iterator(path, ec)) {
        std::string ext = entry.path().extension().string();
        if (ext == ".yaml" || ext == ".yml" || ext == ".json")
          files.push_back(entry.path().string());
      }
      if (ec) return absl::UnavailableError(absl::StrCat(path, ": cannot list: ", ec.message()));
      if (files.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(path, ": the directory holds no .yaml, .yml or .json file"));
      }
      std::sort(files.begin(), files.end());
    } else {
      files.push_back(path);
    }
    for (const std::string& file : files) {
      MESHID_ASSIGN_OR_RETURN(std::string text, base::ReadFile(file, kMaxPolicyFileBytes));
      MESHID_RETURN_IF_ERROR(loader.AddText(text, file));
    }
  }
  return std::move(loader).Finish();
}

}  // namespace meshid::policy
