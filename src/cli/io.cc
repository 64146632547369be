#include "io.h"

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "meshid/base/text.h"

namespace meshid::cli {

int Fail(Io& io, const absl::Status& status) {
  // One line, always, whatever bytes a certificate or a library put in the message.
  io.err << "meshid: " << base::Printable(status.message()) << "\n";
  return kExitError;
}

void AddOutputFlag(CLI::App* cmd, bool* json) {
  cmd->add_option_function<std::string>(
         "-o,--output", [json](const std::string& v) { *json = v == "json"; },
         "Output format: text (default) or json")
      ->check(CLI::IsMember({"text", "json"}));
}

void AddAtFlag(CLI::App* cmd, std::string* at) {
  cmd->add_option("--at", *at,
                  "Evaluate at this time instead of now (RFC 3339, e.g. 2027-06-01T00:00:00Z)");
}

void AddRootNamespaceFlag(CLI::App* cmd, std::string* root_namespace) {
  cmd->add_option("--root-namespace", *root_namespace,
                  "Istio root namespace: mesh-wide policies (default istio-system)");
}

absl::StatusOr<absl::Time> ResolveTime(const Io& io, const std::string& at) {
  if (at.empty()) return io.clock.Now();
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, at, &t, &error)) {
    return absl::InvalidArgumentError(
        absl::StrCat("--at \"", at, "\" is not an RFC 3339 time (e.g. 2027-06-01T00:00:00Z)"));
  }
  return t;
}

void PrintJson(Io& io, const nlohmann::json& doc) {
  // Certificate fields are bytes from peers: replace invalid UTF-8 rather than throw.
  io.out << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

std::string Examples(std::initializer_list<const char*> lines) {
  std::string out = "\nExamples:\n";
  for (const char* line : lines) absl::StrAppend(&out, "  ", line, "\n");
  return out;
}

}  // namespace meshid::cli
