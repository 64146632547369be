#pragma once

// Private to the agent module: what the agent keeps in its data directory. The node SVID and
// its key live in ONE file, node.pem (0600), replaced with one rename, so that a crash never
// leaves a key beside the wrong certificate. The latest trust bundle is kept as SPIFFE
// bundle JSON in bundle.json, so that a restart trusts what the CA last published rather
// than the bootstrap file.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "meshid/ca/v1/ca.pb.h"
#include "meshid/pki/bundle.h"
#include "meshid/pki/certificate.h"
#include "meshid/pki/key.h"

namespace meshid::agent {

// NodeSvid is the node's identity for mTLS with the CA.
struct NodeSvid {
  pki::PrivateKey key;
  std::vector<pki::Certificate> chain;  // leaf first
  const pki::Certificate& leaf() const { return chain.front(); }
};

class NodeStore {
 public:
  explicit NodeStore(std::string data_dir) : data_dir_(std::move(data_dir)) {}

  std::string node_path() const { return data_dir_ + "/node.pem"; }
  std::string bundle_path() const { return data_dir_ + "/bundle.json"; }

  // LoadNodeSvid returns the saved node SVID, nullopt when there is none, or an error when
  // node.pem is unreadable or does not hold a key and its certificate.
  absl::StatusOr<std::optional<NodeSvid>> LoadNodeSvid() const;
  absl::Status SaveNodeSvid(const NodeSvid& svid) const;
  // LoadBundle returns the saved bundle of `trust_domain`, or nullopt when there is none.
  absl::StatusOr<std::optional<pki::TrustBundle>> LoadBundle(
      const pki::TrustDomain& trust_domain) const;
  absl::Status SaveBundle(const pki::TrustBundle& bundle) const;

 private:
  std::string data_dir_;
};

// LoadBootstrapBundle reads the trust_bundle file: PEM certificates or SPIFFE bundle JSON.
absl::StatusOr<pki::TrustBundle> LoadBootstrapBundle(const std::string& path,
                                                     const pki::TrustDomain& trust_domain);

// BundleFromProto converts the CA API's bundle, which must be of `trust_domain`.
absl::StatusOr<pki::TrustBundle> BundleFromProto(const ca::v1::Bundle& proto,
                                                 const pki::TrustDomain& trust_domain);

// NodeSvidFromProto pairs `key` with the chain the CA returned for it, and checks they match.
absl::StatusOr<NodeSvid> NodeSvidFromProto(const pki::PrivateKey& key,
                                           const ca::v1::X509SVID& svid);

}  // namespace meshid::agent
