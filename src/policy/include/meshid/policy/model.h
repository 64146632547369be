#pragma once

// The in-memory form of Istio's PeerAuthentication, AuthorizationPolicy and DestinationRule
// (security.istio.io v1beta1/v1, networking.istio.io v1alpha3/v1beta1/v1), as loader.h reads
// them. Every value here was validated when it was loaded.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace meshid::policy {

using Labels = std::map<std::string, std::string>;

// ObjectMeta is what meshid keeps of a Kubernetes object's metadata.
struct ObjectMeta {
  std::string name;
  std::string namespace_name = "default";  // kubectl's default when none is written
  std::optional<absl::Time> creation_timestamp;
  Labels labels;
  Labels annotations;
  std::string source;  // "authz.yaml doc 2", for messages
  size_t load_order = 0;

  // FullName returns "namespace/name".
  std::string FullName() const { return namespace_name + "/" + name; }
};

// WorkloadSelector is `selector.matchLabels`. A policy without a selector (`present` false)
// applies to every workload of its scope; an empty matchLabels also matches every workload.
struct WorkloadSelector {
  bool present = false;
  Labels match_labels;

  // Matches reports whether every label of matchLabels is on `labels` with the same value.
  bool Matches(const Labels& labels) const;
};

// StringMatch is one of Istio's string forms: "abc" exact, "abc*" prefix, "*abc" suffix, "*"
// any non-empty value.
class StringMatch {
 public:
  enum class Kind { kExact, kPrefix, kSuffix, kPresence };

  // Parse classifies `pattern` as Istio does: "*" first, then a leading '*', then a trailing '*'.
  static StringMatch Parse(absl::string_view pattern);

  // Matches compares `value`; `ignore_case` for host names (RFC 4343).
  bool Matches(absl::string_view value, bool ignore_case = false) const;

  Kind kind() const { return kind_; }
  // pattern returns the text as written in the policy.
  const std::string& pattern() const { return pattern_; }

 private:
  Kind kind_ = Kind::kExact;
  std::string pattern_;
  std::string operand_;  // the part without the '*'
};

// IpAddress is an IPv4 or IPv6 address; IPv4 is kept as an IPv4-mapped IPv6 address so that
// one comparison serves both.
struct IpAddress {
  std::array<uint8_t, 16> bytes{};
  bool v4 = false;

  // Parse reads "10.1.2.3" or "2001:db8::1"; nullopt when it is neither.
  static std::optional<IpAddress> Parse(absl::string_view text);
};

// IpBlock is an address or a CIDR block ("10.0.0.0/8", "2001:db8::/32", "10.1.2.3").
struct IpBlock {
  IpAddress address;
  int prefix_bits = 128;  // counted over the 128-bit form
  std::string text;       // as written

  // Parse reads an address or a CIDR; nullopt when it is neither.
  static std::optional<IpBlock> Parse(absl::string_view text);
  bool Contains(const IpAddress& ip) const;
};

// ---------------------------------------------------------------------------------------
// PeerAuthentication

enum class MtlsMode { kUnset, kDisable, kPermissive, kStrict };
// MtlsModeName returns "UNSET", "DISABLE", "PERMISSIVE" or "STRICT".
absl::string_view MtlsModeName(MtlsMode mode);

struct PeerAuthentication {
  ObjectMeta meta;
  WorkloadSelector selector;
  MtlsMode mode = MtlsMode::kUnset;
  std::map<uint32_t, MtlsMode> port_level;  // portLevelMtls
};

// ---------------------------------------------------------------------------------------
// AuthorizationPolicy

enum class Action { kAllow, kDeny, kAudit };

// Attribute is what one field of a source, an operation or a `when` condition looks at.
enum class Attribute {
  kPrincipal,         // source.principals, when source.principal
  kNamespace,         // source.namespaces, when source.namespace (from the mTLS principal)
  kServiceAccount,    // source.serviceAccounts ("ns/sa")
  kSourceIp,          // source.ipBlocks, when source.ip
  kRemoteIp,          // source.remoteIpBlocks, when remote.ip
  kRequestPrincipal,  // source.requestPrincipals, when request.auth.principal (JWT)
  kRequestAudience,   // when request.auth.audiences
  kRequestPresenter,  // when request.auth.presenter
  kRequestClaim,      // when request.auth.claims[name]
  kHost,              // operation.hosts
  kMethod,            // operation.methods
  kPath,              // operation.paths
  kPort,              // operation.ports, when destination.port
  kHeader,            // when request.headers[name]
  kSni,               // when connection.sni
  kDestinationIp,     // when destination.ip
};

// IsHttpOnly reports whether `attribute` exists only on HTTP requests (Istio's "HTTP only"
// fields: methods, paths, hosts, headers, request principals and JWT claims).
bool IsHttpOnly(Attribute attribute);

// FieldMatch is one field of a rule: it matches when the attribute matches one of the values
// (or, `negated`, none of them).
struct FieldMatch {
  Attribute attribute = Attribute::kPrincipal;
  std::string name;  // header or claim name for kHeader / kRequestClaim
  bool negated = false;
  std::vector<StringMatch> strings;  // string attributes
  std::vector<IpBlock> ip_blocks;    // kSourceIp, kRemoteIp, kDestinationIp
  std::vector<uint32_t> ports;       // kPort
  std::string field;                 // where it was written: "rules[0].from[0].source.principals"
};

// Rule matches when one of `from` matches (or there is none), one of `to` matches (or there is
// none) and every `when` matches; the fields of one source or operation are ANDed.
struct Rule {
  std::vector<std::vector<FieldMatch>> from;
  std::vector<std::vector<FieldMatch>> to;
  std::vector<FieldMatch> when;
};

// TargetRef is a `targetRef`/`targetRefs` entry: a Gateway API style reference to a gateway,
// service or waypoint. meshid evaluates policies for sidecar workloads, which such policies
// do not select.
struct TargetRef {
  std::string group;
  std::string kind;
  std::string name;
};

struct AuthorizationPolicy {
  ObjectMeta meta;
  WorkloadSelector selector;
  std::vector<TargetRef> target_refs;
  Action action = Action::kAllow;
  std::vector<Rule> rules;
};

// ---------------------------------------------------------------------------------------
// DestinationRule

enum class TlsMode { kUnset, kDisable, kSimple, kMutual, kIstioMutual };
// TlsModeName returns "UNSET", "DISABLE", "SIMPLE", "MUTUAL" or "ISTIO_MUTUAL".
absl::string_view TlsModeName(TlsMode mode);

struct DestinationRule {
  ObjectMeta meta;
  std::string host;  // as written: FQDN, short name, "*.example.com" or "*"
  TlsMode tls_mode = TlsMode::kUnset;
  std::map<uint32_t, TlsMode> port_tls;  // portLevelSettings[].tls.mode, when set
  WorkloadSelector workload_selector;    // client workloads it applies to
  std::vector<std::string> export_to;    // exportTo: "*", "." or namespaces (empty: all)
};

// PolicySet is everything loaded, each list oldest first (creationTimestamp, then the order in
// which the files and documents were given; policies without a timestamp after those with one).
struct PolicySet {
  std::vector<PeerAuthentication> peer_authentications;
  std::vector<AuthorizationPolicy> authorization_policies;
  std::vector<DestinationRule> destination_rules;
};

}  // namespace meshid::policy
