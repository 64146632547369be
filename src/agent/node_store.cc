#include "node_store.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "meshid/agent/ca_client.h"
#include "meshid/base/files.h"
#include "meshid/base/status.h"

namespace meshid::agent {

absl::StatusOr<std::optional<NodeSvid>> NodeStore::LoadNodeSvid() const {
  const std::string path = node_path();
  if (!base::PathExists(path)) return std::nullopt;
  MESHID_ASSIGN_OR_RETURN(base::SecretString pem, base::ReadSecretFile(path));
  absl::StatusOr<pki::PrivateKey> key = pki::PrivateKey::Parse(pem.view());
  if (!key.ok()) return base::Annotate(key.status(), path);
  absl::StatusOr<std::vector<pki::Certificate>> chain = pki::ParseCertificates(pem.view());
  if (!chain.ok()) return base::Annotate(chain.status(), path);
  if (!key->Matches(chain->front().public_key())) {
    return absl::DataLossError(absl::StrCat(path, ": the key does not match the certificate"));
  }
  return NodeSvid{*key, *chain};
}

absl::Status NodeStore::SaveNodeSvid(const NodeSvid& svid) const {
  MESHID_ASSIGN_OR_RETURN(base::SecretString key_pem, svid.key.ToPkcs8Pem());
  std::string chain = pki::ToPem(svid.chain);
  std::string content;
  content.reserve(key_pem.view().size() + chain.size());  // no reallocation leaves key bytes
  content.append(key_pem.view().data(), key_pem.view().size());
  content += chain;
  base::StagedFiles files;
  files.AddSecret(node_path(), base::SecretString(std::move(content)));
  return files.Commit(/*overwrite=*/true);
}

absl::StatusOr<std::optional<pki::TrustBundle>> NodeStore::LoadBundle(
    const pki::TrustDomain& trust_domain) const {
  const std::string path = bundle_path();
  if (!base::PathExists(path)) return std::nullopt;
  MESHID_ASSIGN_OR_RETURN(std::string json, base::ReadFile(path));
  absl::StatusOr<pki::TrustBundle> bundle = pki::TrustBundle::FromSpiffeJson(trust_domain, json);
  if (!bundle.ok()) return base::Annotate(bundle.status(), path);
  return *bundle;
}

absl::Status NodeStore::SaveBundle(const pki::TrustBundle& bundle) const {
  base::StagedFiles files;
  files.Add(bundle_path(), bundle.ToSpiffeJson(), 0644);
  return files.Commit(/*overwrite=*/true);
}

absl::StatusOr<pki::TrustBundle> LoadBootstrapBundle(const std::string& path,
                                                     const pki::TrustDomain& trust_domain) {
  MESHID_ASSIGN_OR_RETURN(std::string text, base::ReadFile(path));
  absl::StatusOr<pki::TrustBundle> bundle =
      absl::StrContains(text, "-----BEGIN") ? pki::TrustBundle::FromPem(trust_domain, text)
                                            : pki::TrustBundle::FromSpiffeJson(trust_domain, text);
  if (!bundle.ok()) return base::Annotate(bundle.status(), path);
  if (bundle->x509_authorities().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": holds no X.509 root"));
  }
  return *bundle;
}

absl::StatusOr<pki::TrustBundle> BundleFromProto(const ca::v1::Bundle& proto,
                                                 const pki::TrustDomain& trust_domain) {
  if (proto.trust_domain() != trust_domain.name()) {
    return absl::FailedPreconditionError(
        absl::StrCat("the CA serves trust domain \"", proto.trust_domain(),
                     "\" but this agent is configured for \"", trust_domain.name(), "\""));
  }
  pki::TrustBundle bundle(trust_domain);
  for (const std::string& der : proto.x509_authorities()) {
    MESHID_ASSIGN_OR_RETURN(pki::Certificate root, pki::Certificate::FromDer(der));
    (void)bundle.AddX509Authority(root);  // a duplicate is harmless
  }
  if (bundle.x509_authorities().empty()) {
    return absl::FailedPreconditionError("the CA sent a bundle with no X.509 root");
  }
  for (const ca::v1::JwtAuthority& jwt : proto.jwt_authorities()) {
    MESHID_ASSIGN_OR_RETURN(pki::PublicKey key, pki::PublicKey::FromDer(jwt.public_key()));
    MESHID_RETURN_IF_ERROR(bundle.AddJwtAuthority({jwt.key_id(), key}));
  }
  bundle.set_sequence(proto.sequence());
  if (proto.refresh_hint_seconds() > 0) {
    bundle.set_refresh_hint(absl::Seconds(proto.refresh_hint_seconds()));
  }
  return bundle;
}

absl::StatusOr<NodeSvid> NodeSvidFromProto(const pki::PrivateKey& key,
                                           const ca::v1::X509SVID& svid) {
  MESHID_ASSIGN_OR_RETURN(std::vector<pki::Certificate> chain, ParseSvidChain(svid));
  if (!key.Matches(chain.front().public_key())) {
    return absl::InternalError("the CA returned a node SVID for another key");
  }
  return NodeSvid{key, std::move(chain)};
}

}  // namespace meshid::agent
