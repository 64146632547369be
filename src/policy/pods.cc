#include "meshid/policy/pods.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "meshid/base/files.h"
#include "meshid/base/status.h"
#include "nlohmann/json.hpp"

namespace meshid::policy {
namespace {

using nlohmann::json;

// PodReader turns one parsed document into pods; every error names the source and the path.
class PodReader {
 public:
  explicit PodReader(absl::string_view source) : source_(source) {}

  absl::Status Error(absl::string_view path, absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat(source_, ": ", path, ": ", what));
  }

  // Get returns the member `key` of `object`, or nullptr when it is absent or null (kubectl
  // omits empty fields, other tools write null).
  static const json* Get(const json& object, const char* key) {
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return nullptr;
    return &*it;
  }

  static std::string Field(absl::string_view path, absl::string_view key) {
    return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
  }

  absl::StatusOr<const json*> Object(const json& object, const char* key,
                                     const std::string& path) const {
    const json* v = Get(object, key);
    if (v != nullptr && !v->is_object()) return Error(Field(path, key), "expected an object");
    return v;
  }

  absl::StatusOr<const json*> List(const json& object, const char* key,
                                   const std::string& path) const {
    const json* v = Get(object, key);
    if (v != nullptr && !v->is_array()) return Error(Field(path, key), "expected a list");
    return v;
  }

  absl::StatusOr<std::string> String(const json& object, const char* key, const std::string& path,
                                     bool required) const {
    const json* v = Get(object, key);
    if (v == nullptr) {
      if (required) return Error(Field(path, key), "is required");
      return std::string();
    }
    if (!v->is_string()) return Error(Field(path, key), "expected a string");
    return v->get<std::string>();
  }

  absl::StatusOr<bool> Bool(const json& object, const char* key, const std::string& path) const {
    const json* v = Get(object, key);
    if (v == nullptr) return false;
    if (!v->is_boolean()) return Error(Field(path, key), "expected true or false");
    return v->get<bool>();
  }

  absl::StatusOr<std::vector<std::string>> StringList(const json& object, const char* key,
                                                      const std::string& path) const {
    std::vector<std::string> out;
    const json* v = Get(object, key);
    if (v == nullptr) return out;
    if (!v->is_array()) return Error(Field(path, key), "expected a list of strings");
    for (const json& item : *v) {
      if (!item.is_string()) return Error(Field(path, key), "expected a list of strings");
      out.push_back(item.get<std::string>());
    }
    return out;
  }

  absl::StatusOr<Labels> StringMap(const json& object, const char* key,
                                   const std::string& path) const {
    Labels out;
    const json* v = Get(object, key);
    if (v == nullptr) return out;
    if (!v->is_object()) return Error(Field(path, key), "expected a map of strings");
    for (const auto& [k, value] : v->items()) {
      if (!value.is_string()) return Error(Field(Field(path, key), k), "expected a string");
      out.emplace(k, value.get<std::string>());
    }
    return out;
  }

  absl::StatusOr<Container> ReadContainer(const json& node, const std::string& path,
                                          Container::Kind kind) const {
    if (!node.is_object()) return Error(path, "expected an object (a container)");
    Container c;
    c.kind = kind;
    c.field = path;
    MESHID_ASSIGN_OR_RETURN(c.name, String(node, "name", path, true));
    MESHID_ASSIGN_OR_RETURN(c.restart_policy, String(node, "restartPolicy", path, false));
    MESHID_ASSIGN_OR_RETURN(const json* ports, List(node, "ports", path));
    if (ports != nullptr) {
      for (size_t i = 0; i < ports->size(); ++i) {
        std::string at = absl::StrCat(Field(path, "ports"), "[", i, "]");
        const json& port = (*ports)[i];
        if (!port.is_object()) return Error(at, "expected an object (a container port)");
        const json* number = Get(port, "containerPort");
        if (number == nullptr) continue;
        if (!number->is_number_integer() || number->get<int64_t>() < 1 ||
            number->get<int64_t>() > 65535) {
          return Error(Field(at, "containerPort"), "expected a port number (1-65535)");
        }
        c.ports.push_back(static_cast<uint32_t>(number->get<int64_t>()));
      }
    }
    std::string sc_path = Field(path, "securityContext");
    MESHID_ASSIGN_OR_RETURN(const json* sc, Object(node, "securityContext", path));
    if (sc == nullptr) return c;
    MESHID_ASSIGN_OR_RETURN(c.privileged, Bool(*sc, "privileged", sc_path));
    std::string caps_path = Field(sc_path, "capabilities");
    MESHID_ASSIGN_OR_RETURN(const json* caps, Object(*sc, "capabilities", sc_path));
    if (caps == nullptr) return c;
    MESHID_ASSIGN_OR_RETURN(c.add_capabilities, StringList(*caps, "add", caps_path));
    MESHID_ASSIGN_OR_RETURN(c.drop_capabilities, StringList(*caps, "drop", caps_path));
    return c;
  }

  absl::StatusOr<Pod> ReadPod(const json& item, const std::string& path) const {
    Pod pod;
    pod.field = path;
    std::string meta_path = Field(path, "metadata");
    MESHID_ASSIGN_OR_RETURN(const json* meta, Object(item, "metadata", path));
    if (meta == nullptr) return Error(meta_path, "is required");
    MESHID_ASSIGN_OR_RETURN(pod.name, String(*meta, "name", meta_path, true));
    if (pod.name.empty()) return Error(Field(meta_path, "name"), "must not be empty");
    MESHID_ASSIGN_OR_RETURN(std::string ns, String(*meta, "namespace", meta_path, false));
    if (!ns.empty()) pod.namespace_name = std::move(ns);
    MESHID_ASSIGN_OR_RETURN(pod.labels, StringMap(*meta, "labels", meta_path));
    std::string spec_path = Field(path, "spec");
    MESHID_ASSIGN_OR_RETURN(const json* spec, Object(item, "spec", path));
    if (spec == nullptr) return pod;
    MESHID_ASSIGN_OR_RETURN(pod.host_network, Bool(*spec, "hostNetwork", spec_path));
    for (auto [key, kind] : {std::pair{"containers", Container::Kind::kContainer},
                             std::pair{"initContainers", Container::Kind::kInit},
                             std::pair{"ephemeralContainers", Container::Kind::kEphemeral}}) {
      MESHID_ASSIGN_OR_RETURN(const json* list, List(*spec, key, spec_path));
      if (list == nullptr) continue;
      for (size_t i = 0; i < list->size(); ++i) {
        std::string at = absl::StrCat(Field(spec_path, key), "[", i, "]");
        MESHID_ASSIGN_OR_RETURN(Container c, ReadContainer((*list)[i], at, kind));
        pod.containers.push_back(std::move(c));
      }
    }
    return pod;
  }

  absl::StatusOr<PodList> ReadList(const json& doc) const {
    if (!doc.is_object()) {
      return absl::InvalidArgumentError(absl::StrCat(
          source_, ": expected a JSON object, a List of pods (kubectl get pods -A -o json)"));
    }
    MESHID_ASSIGN_OR_RETURN(std::string kind, String(doc, "kind", "", true));
    if (kind != "List" && kind != "PodList") {
      return Error("kind", absl::StrCat("expected List or PodList (kubectl get pods -A -o json), "
                                        "not \"",
                                        kind, "\""));
    }
    PodList out;
    MESHID_ASSIGN_OR_RETURN(const json* items, List(doc, "items", ""));
    if (items == nullptr) return out;
    for (size_t i = 0; i < items->size(); ++i) {
      std::string at = absl::StrCat("items[", i, "]");
      const json& item = (*items)[i];
      if (!item.is_object()) return Error(at, "expected an object (a Pod)");
      MESHID_ASSIGN_OR_RETURN(std::string item_kind, String(item, "kind", at, false));
      // A PodList's items carry no kind; a List may hold other kinds (kubectl get all).
      if (!item_kind.empty() && item_kind != "Pod") {
        out.notes.push_back(absl::StrCat(source_, ": ", at, ": kind ", item_kind, " skipped"));
        continue;
      }
      MESHID_ASSIGN_OR_RETURN(Pod pod, ReadPod(item, at));
      out.pods.push_back(std::move(pod));
    }
    return out;
  }

 private:
  std::string source_;
};

}  // namespace

absl::string_view ContainerKindName(Container::Kind kind) {
  switch (kind) {
    case Container::Kind::kContainer:
      return "container";
    case Container::Kind::kInit:
      return "initContainer";
    case Container::Kind::kEphemeral:
      return "ephemeralContainer";
  }
  return "container";
}

absl::StatusOr<PodList> ParsePodList(absl::string_view text, absl::string_view source) {
  json doc;
  // nlohmann-json reports syntax errors by throwing; this is the edge where they become a
  // Status. Its parser and destructor are iterative, so deep nesting cannot overflow the stack.
  try {
    doc = json::parse(text.begin(), text.end());
  } catch (const json::exception& e) {
    std::string what = e.what();
    // "[json.exception.parse_error.101] parse error at line 1, ..." without the bracketed id.
    if (size_t end = what.find("] "); absl::StartsWith(what, "[") && end != std::string::npos) {
      what = what.substr(end + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat(source, ": not JSON: ", what));
  }
  return PodReader(source).ReadList(doc);
}

absl::StatusOr<PodList> LoadPodFile(const std::string& path) {
  MESHID_ASSIGN_OR_RETURN(std::string text, base::ReadFile(path, kMaxPodsFileBytes));
  return ParsePodList(text, path);
}

}  // namespace meshid::policy
