// meshid check: like `linkerd check`, for every level of a CA hierarchy.

#include <map>

#include <dirent.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "check.h"
#include "commands.h"
#include "material.h"
#include "meshid/base/duration.h"
#include "meshid/base/files.h"
#include "meshid/base/status.h"
#include "meshid/base/text.h"
#include "meshid/pki/crypto.h"
#include "secret_yaml.h"

namespace meshid::cli {
namespace {

using nlohmann::json;

// InputFiles is a named set of inputs: the files of a directory or the entries of a Secret.
struct InputFiles {
  std::string prefix;  // "dir/" or "secret.yaml:", put before an entry name in messages
  std::map<std::string, base::SecretString> entries;

  bool Has(const std::string& name) const { return entries.count(name) > 0; }
  std::string Path(const std::string& name) const { return prefix + name; }
};

struct Layout {
  const char* name;
  const char* marker;  // the entry that identifies the layout
  const char* cert;    // the signing CA certificate
  const char* chain;   // its chain (may also hold the CA certificate and the root), or ""
  const char* key;     // its private key
  const char* bundle;  // the roots
  int levels_below;    // CA levels the CA server mints below the signing CA
};

// Order matters: Linkerd's and kubernetes.io/tls directories also hold a ca.crt.
constexpr Layout kLayouts[] = {
    {"linkerd", "issuer.crt", "issuer.crt", "", "issuer.key", "ca.crt", 0},
    {"istio-cacerts", "ca-cert.pem", "ca-cert.pem", "cert-chain.pem", "ca-key.pem", "root-cert.pem",
     0},
    {"kubernetes-tls", "tls.crt", "tls.crt", "", "tls.key", "ca.crt", 0},
    {"meshid", "ca.crt", "ca.crt", "chain.pem", "ca.key", "bundle.pem", 1},
    {"meshid-root", "root.crt", "", "", "root.key", "root.crt", 0},
};

// IsLayoutFile reports whether some layout reads a file called `name`.
bool IsLayoutFile(const std::string& name) {
  for (const Layout& l : kLayouts) {
    for (const char* file : {l.cert, l.chain, l.key, l.bundle}) {
      if (name == file) return true;
    }
  }
  return false;
}

absl::StatusOr<InputFiles> ReadDirectory(const std::string& dir) {
  if (!base::IsDirectory(dir)) {
    if (!base::PathExists(dir))
      return absl::NotFoundError(absl::StrCat(dir, ": no such directory"));
    return absl::InvalidArgumentError(absl::StrCat(dir, ": is not a directory"));
  }
  InputFiles files{JoinPath(dir, ""), {}};
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return absl::PermissionDeniedError(absl::StrCat(dir, ": cannot list"));
  absl::Status status;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = JoinPath(dir, name);
    // Only regular files are read: a FIFO would block, and subdirectories are not material.
    if (!base::IsRegularFile(path)) {
      if (IsLayoutFile(name) && status.ok()) {
        status = absl::InvalidArgumentError(
            absl::StrCat(path, base::IsDirectory(path) ? ": is a directory, expected a file"
                                                       : ": is not a regular file"));
      }
      continue;
    }
    absl::StatusOr<base::SecretString> data = base::ReadSecretFile(path);
    if (data.ok()) {
      files.entries.emplace(name, *std::move(data));
    } else if (IsLayoutFile(name) && status.ok()) {
      status = data.status();  // a file a layout needs is unusable: say which and why
    }
    // Other files that cannot be read (large ones, unreadable ones) are not CA material.
  }
  closedir(d);
  if (!status.ok()) return status;
  return files;
}

absl::StatusOr<InputFiles> ReadSecret(const std::string& path) {
  MESHID_ASSIGN_OR_RETURN(base::SecretString text, base::ReadSecretFile(path));
  absl::StatusOr<KubernetesSecret> secret = ParseKubernetesSecret(text.view());
  if (!secret.ok()) return base::Annotate(secret.status(), path);
  InputFiles files{path + ":", {}};
  for (auto& [key, value] : secret->entries) files.entries.emplace(key, std::move(value));
  return files;
}

absl::StatusOr<std::vector<pki::Certificate>> CertsOf(const InputFiles& files,
                                                      const std::string& name) {
  auto it = files.entries.find(name);
  if (it == files.entries.end()) {
    return absl::NotFoundError(absl::StrCat(files.Path(name), ": missing"));
  }
  absl::StatusOr<std::vector<pki::Certificate>> certs = pki::ParseCertificates(it->second.view());
  return certs.ok() ? certs : base::Annotate(certs.status(), files.Path(name));
}

void AppendNew(std::vector<pki::Certificate>& to, const std::vector<pki::Certificate>& from) {
  for (const pki::Certificate& c : from) {
    if (std::find(to.begin(), to.end(), c) == to.end()) to.push_back(c);
  }
}

// RootKeysBeside lists the entries, other than the CA key `used_key`, that hold a root's
// private key.
std::vector<std::string> RootKeysBeside(const InputFiles& files, const std::string& used_key,
                                        const std::vector<pki::Certificate>& roots) {
  std::vector<std::pair<std::string, absl::string_view>> others;
  for (const auto& [name, data] : files.entries) {
    if (name != used_key) others.emplace_back(name, data.view());
  }
  std::vector<std::string> found = pki::FindRootKeys(others, roots);
  for (std::string& name : found) name = files.Path(name);
  return found;
}

struct Assembled {
  CheckInput input;
  std::string source;
};

absl::StatusOr<Assembled> FromFiles(const InputFiles& files, const std::string& source,
                                    const std::string& passphrase_file) {
  const Layout* layout = nullptr;
  for (const Layout& l : kLayouts) {
    if (files.Has(l.marker)) {
      layout = &l;
      break;
    }
  }
  if (layout == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        source,
        ": no known layout; expected meshid (ca.crt, ca.key, chain.pem, bundle.pem), Istio "
        "cacerts (ca-cert.pem, ca-key.pem, root-cert.pem, cert-chain.pem), Linkerd (ca.crt, "
        "issuer.crt, issuer.key) or kubernetes.io/tls (tls.crt, tls.key, ca.crt)"));
  }
  Assembled out{{}, absl::StrCat(source, " (", layout->name, " layout)")};
  CheckInput& in = out.input;
  MESHID_ASSIGN_OR_RETURN(in.bundle, CertsOf(files, layout->bundle));
  if (*layout->cert != '\0') {
    MESHID_ASSIGN_OR_RETURN(in.ca_chain, CertsOf(files, layout->cert));
    if (*layout->chain != '\0' && files.Has(layout->chain)) {
      MESHID_ASSIGN_OR_RETURN(std::vector<pki::Certificate> chain, CertsOf(files, layout->chain));
      AppendNew(in.ca_chain, chain);
    }
    in.levels_below_ca = layout->levels_below;
  }
  if (files.Has(layout->key)) {
    const base::SecretString& data = files.entries.at(layout->key);
    MESHID_ASSIGN_OR_RETURN(
        in.ca_key, ParsePrivateKeyAt(files.Path(layout->key), data.view(), passphrase_file));
    in.ca_key_source = files.Path(layout->key);
    if (!in.ca_chain.empty())
      in.root_keys_beside_ca_key = RootKeysBeside(files, layout->key, in.bundle);
  }
  return out;
}

// FromDirectory reads a CA directory, or the top of a `meshid pki init` tree (root/ and
// intermediate/), in which case the intermediate is checked and root/root.key noted.
absl::StatusOr<Assembled> FromDirectory(const std::string& dir,
                                        const std::string& passphrase_file) {
  std::string intermediate = JoinPath(dir, "intermediate");
  if (base::PathExists(JoinPath(intermediate, "ca.crt")) &&
      base::PathExists(JoinPath(dir, "root/root.crt"))) {
    MESHID_ASSIGN_OR_RETURN(InputFiles files, ReadDirectory(intermediate));
    MESHID_ASSIGN_OR_RETURN(Assembled out, FromFiles(files, intermediate, passphrase_file));
    if (base::PathExists(JoinPath(dir, "root/root.key"))) {
      out.input.root_keys_in_tree.push_back(JoinPath(dir, "root/root.key"));
    }
    return out;
  }
  MESHID_ASSIGN_OR_RETURN(InputFiles files, ReadDirectory(dir));
  return FromFiles(files, dir, passphrase_file);
}

struct CheckOptions {
  std::string dir;
  std::string secret;
  std::string bundle;
  std::string chain;
  std::string key;
  std::string leaf;
  std::string passphrase_file;
  std::string at;
  std::map<std::string, std::string> thresholds;  // flag name → value
  bool json = false;
};

absl::StatusOr<Assembled> Assemble(const CheckOptions& o, std::ostream& err) {
  if (!o.dir.empty() && !o.secret.empty()) {
    return absl::InvalidArgumentError("give --dir or --secret, not both");
  }
  Assembled out;
  if (!o.dir.empty()) {
    MESHID_ASSIGN_OR_RETURN(out, FromDirectory(o.dir, o.passphrase_file));
  } else if (!o.secret.empty()) {
    MESHID_ASSIGN_OR_RETURN(InputFiles files, ReadSecret(o.secret));
    MESHID_ASSIGN_OR_RETURN(out, FromFiles(files, o.secret, o.passphrase_file));
  } else if (o.bundle.empty() && o.chain.empty() && o.leaf.empty()) {
    return absl::InvalidArgumentError(
        "nothing to check: give --dir, --secret, or --bundle with --chain and/or --leaf");
  }
  CheckInput& in = out.input;
  std::vector<std::string> sources;
  if (!out.source.empty()) sources.push_back(out.source);
  if (!o.bundle.empty()) {
    MESHID_ASSIGN_OR_RETURN(std::string data, base::ReadFile(o.bundle));
    MESHID_ASSIGN_OR_RETURN(pki::TrustDomain any, pki::TrustDomain::Parse("unknown"));
    MESHID_ASSIGN_OR_RETURN(pki::TrustBundle bundle, ParseBundle(o.bundle, data, any, err));
    in.bundle = bundle.x509_authorities();
    sources.push_back("bundle " + o.bundle);
  }
  if (!o.chain.empty()) {
    MESHID_ASSIGN_OR_RETURN(std::vector<pki::Certificate> chain, LoadCertificates(o.chain));
    if (!chain.front().is_ca()) {
      if (!o.leaf.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat(o.chain,
                         ": starts with a leaf; give the leaf with --leaf and the CA "
                         "chain with --chain"));
      }
      in.leaf_chain = chain;
    } else {
      in.ca_chain = chain;
    }
    sources.push_back("chain " + o.chain);
  }
  if (!o.key.empty()) {
    MESHID_ASSIGN_OR_RETURN(in.ca_key, LoadPrivateKey(o.key, o.passphrase_file));
    in.ca_key_source = o.key;
  }
  if (!o.leaf.empty()) {
    MESHID_ASSIGN_OR_RETURN(in.leaf_chain, LoadCertificates(o.leaf));
    if (in.leaf_chain.front().is_ca()) {
      return absl::InvalidArgumentError(
          absl::StrCat(o.leaf, ": the first certificate is a CA, not a leaf"));
    }
    sources.push_back("leaf " + o.leaf);
  }
  if (in.leaf_chain.size() == 1) AppendNew(in.leaf_chain, in.ca_chain);
  out.source = absl::StrJoin(sources, ", ");
  return out;
}

absl::StatusOr<Thresholds> ResolveThresholds(const CheckOptions& o) {
  Thresholds t = Thresholds::Defaults();
  for (const auto& [flag, value] : o.thresholds) {
    if (value.empty()) continue;
    absl::StatusOr<Threshold> parsed = ParseThreshold(value);
    if (!parsed.ok()) return base::Annotate(parsed.status(), "--" + flag);
    bool warn = absl::StartsWith(flag, "warn-");
    std::string level = flag.substr(5);  // after "warn-" or "crit-"
    Level l = level == "root"           ? Level::kRoot
              : level == "intermediate" ? Level::kIntermediate
              : level == "issuing"      ? Level::kIssuing
                                        : Level::kLeaf;
    (warn ? t.For(l).warn : t.For(l).critical) = *parsed;
  }
  return t;
}

absl::StatusOr<int> RunCheck(Io& io, const CheckOptions& o) {
  MESHID_ASSIGN_OR_RETURN(absl::Time now, ResolveTime(io, o.at));
  MESHID_ASSIGN_OR_RETURN(Thresholds thresholds, ResolveThresholds(o));
  MESHID_ASSIGN_OR_RETURN(Assembled assembled, Assemble(o, io.err));
  std::vector<CheckResult> results = RunChecks(assembled.input, thresholds, now);
  CheckStatus worst = Worst(results);
  std::map<CheckStatus, int> counts;
  for (const CheckResult& r : results) ++counts[r.status];

  if (o.json) {
    json checks = json::array();
    for (const CheckResult& r : results) {
      checks.push_back({{"group", r.group},
                        {"name", r.name},
                        {"status", CheckStatusName(r.status)},
                        {"detail", r.detail}});
    }
    PrintJson(io, {{"source", assembled.source},
                   {"at", base::Rfc3339(now)},
                   {"status", CheckStatusName(worst)},
                   {"summary",
                    {{"ok", counts[CheckStatus::kOk]},
                     {"warn", counts[CheckStatus::kWarn]},
                     {"fail", counts[CheckStatus::kFail]}}},
                   {"checks", checks}});
  } else {
    io.out << "meshid check: " << assembled.source << "\n";
    std::string group;
    for (const CheckResult& r : results) {
      if (r.group != group) {
        group = r.group;
        std::string title = base::Printable(group);
        io.out << "\n" << title << "\n" << std::string(title.size(), '-') << "\n";
      }
      const char* mark = r.status == CheckStatus::kOk     ? "√"
                         : r.status == CheckStatus::kWarn ? "‼"
                                                          : "×";
      io.out << mark << " " << r.name << ": " << base::Printable(r.detail) << "\n";
    }
    io.out << "\nStatus check results are "
           << (worst == CheckStatus::kOk     ? "√"
               : worst == CheckStatus::kWarn ? "‼"
                                             : "×")
           << " (" << counts[CheckStatus::kFail] << " failed, " << counts[CheckStatus::kWarn]
           << " warnings, " << counts[CheckStatus::kOk] << " ok)\n";
  }
  return worst == CheckStatus::kOk     ? kExitOk
         : worst == CheckStatus::kWarn ? kExitWarning
                                       : kExitError;
}

}  // namespace

void AddCheckCommand(CLI::App& app, Io& io) {
  auto opts = std::make_shared<CheckOptions>();
  CLI::App* check = app.add_subcommand(
      "check", "Check a CA hierarchy: validity, remaining life, chains, keys, SVID rules");
  check->add_option("--dir", opts->dir,
                    "Directory in meshid, Istio cacerts, Linkerd or kubernetes.io/tls layout");
  check->add_option("--secret", opts->secret, "Kubernetes Secret YAML in any of those layouts");
  check->add_option("--bundle", opts->bundle, "Trust bundle: PEM, DER or SPIFFE JSON");
  check->add_option("--chain", opts->chain, "CA certificate followed by its issuers");
  check->add_option("--key", opts->key, "Private key of the CA certificate");
  check->add_option("--leaf", opts->leaf, "A leaf SVID, optionally followed by its chain");
  check->add_option("--passphrase-file", opts->passphrase_file, "Passphrase of an encrypted key");
  AddAtFlag(check, &opts->at);
  for (const char* level : {"root", "intermediate", "issuing", "leaf"}) {
    for (const char* kind : {"warn", "crit"}) {
      std::string flag = absl::StrCat(kind, "-", level);
      check->add_option("--" + flag, opts->thresholds[flag],
                        absl::StrCat(kind == std::string("warn") ? "Warning" : "Critical",
                                     " threshold for ", level,
                                     " certificates: a duration (730d) or a share of the "
                                     "lifetime (33%)"));
    }
  }
  AddOutputFlag(check, &opts->json);
  check->footer(
      "\nExit status: 0 all checks pass, 1 the worst is a warning, 2 a check failed or the\n"
      "input is unusable.\n" +
      Examples({"meshid check --dir ./pki/intermediate",
                "meshid check --dir /etc/cacerts --leaf web.pem --warn-intermediate 365d",
                "kubectl -n istio-system get secret cacerts -o yaml | meshid check --secret "
                "/dev/stdin -o json"}));
  check->callback([&io, opts] {
    absl::StatusOr<int> code = RunCheck(io, *opts);
    io.exit_code = code.ok() ? *code : Fail(io, code.status());
  });
}

}  // namespace meshid::cli
