#include "upstream.h"

#include <filesystem>

#include <dirent.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "meshid/base/duration.h"
#include "meshid/base/files.h"
#include "meshid/base/status.h"
#include "meshid/pki/crypto.h"

namespace meshid::ca {
namespace {

constexpr absl::Duration kWarn = absl::Hours(24 * 180);
constexpr absl::Duration kCritical = absl::Hours(24 * 30);

// RootKeysIn lists the files of `dir` that hold a private key of one of `roots`.
std::vector<std::string> RootKeysIn(const std::string& dir,
                                    const std::vector<pki::Certificate>& roots) {
  std::vector<std::pair<std::string, base::SecretString>> contents;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    std::string path = entry.path().string();
    if (!base::IsRegularFile(path)) continue;
    absl::StatusOr<base::SecretString> data = base::ReadSecretFile(path);
    if (data.ok()) contents.emplace_back(path, *std::move(data));
  }
  std::vector<std::pair<std::string, absl::string_view>> files;
  for (const auto& [path, data] : contents) files.emplace_back(path, data.view());
  return pki::FindRootKeys(files, roots);
}

}  // namespace

int UpstreamLifetimeState(const pki::Certificate& upstream, absl::Time now) {
  absl::Duration left = upstream.not_after() - now;
  if (left < kCritical) return 2;
  if (left < kWarn) return 1;
  return 0;
}

absl::StatusOr<UpstreamCheck> LoadUpstream(const std::string& dir,
                                           const pki::TrustDomain& trust_domain, absl::Time now,
                                           bool allow_root_key_online) {
  absl::StatusOr<pki::CaDirectory> loaded = pki::ReadCaDirectory(dir);
  if (!loaded.ok()) return base::Annotate(loaded.status(), "upstream_dir");
  UpstreamCheck out{*std::move(loaded), {}};
  const pki::Certificate& ca = out.upstream.signer.certificate;
  if (out.upstream.is_root) {
    return absl::FailedPreconditionError(absl::StrCat(
        "upstream_dir ", dir,
        " is a root directory: give the server an intermediate "
        "(meshid pki init writes one in <out>/intermediate) and keep the root offline"));
  }
  if (!ca.is_ca() || !ca.key_usage().key_cert_sign) {
    return absl::FailedPreconditionError(
        absl::StrCat("upstream_dir ", dir, ": ca.crt is not a CA with keyCertSign"));
  }
  if (std::optional<int> len = ca.path_len(); len.has_value() && *len < 1) {
    return absl::FailedPreconditionError(absl::StrCat(
        "upstream_dir ", dir, ": ca.crt has pathlen 0 and cannot sign the server's issuing CAs"));
  }
  if (absl::StatusOr<pki::SpiffeId> id = ca.spiffe_id(); id.ok() && !id->IsMemberOf(trust_domain)) {
    return absl::FailedPreconditionError(
        absl::StrCat("upstream_dir ", dir, ": ca.crt belongs to trust domain ",
                     id->trust_domain().name(), ", not ", trust_domain.name()));
  }
  if (!ca.IsValidAt(now)) {
    return absl::FailedPreconditionError(
        absl::StrCat("upstream_dir ", dir, ": ca.crt is not valid now (valid ",
                     base::Rfc3339(ca.not_before()), " to ", base::Rfc3339(ca.not_after()),
                     "); sign a new intermediate with meshid pki "
                     "intermediate"));
  }
  std::vector<std::string> root_keys = RootKeysIn(dir, out.upstream.roots);
  if (!root_keys.empty()) {
    std::string what = absl::StrCat("the root's private key is readable in upstream_dir (",
                                    absl::StrJoin(root_keys, ", "), ")");
    if (!allow_root_key_online) {
      return absl::FailedPreconditionError(absl::StrCat(
          what, ": move it to offline storage, or pass --allow-root-key-online for a lab"));
    }
    out.warnings.push_back(absl::StrCat(what, "; started anyway (--allow-root-key-online)"));
  }
  std::filesystem::path normal = std::filesystem::path(dir).lexically_normal();
  if (!normal.has_filename()) normal = normal.parent_path();  // "a/b/" names "a/b"
  std::string sibling = (normal.parent_path() / "root" / "root.key").string();
  if (base::PathExists(sibling)) {
    out.warnings.push_back(absl::StrCat(sibling,
                                        " holds a root private key next to the "
                                        "upstream: move it offline"));
  }
  return out;
}

}  // namespace meshid::ca
