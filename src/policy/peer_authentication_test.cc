// PeerAuthentication precedence (istio.io "PeerAuthentication" reference and the
// authentication policy task): mesh < namespace < workload < port, UNSET inherits, the oldest
// policy of a scope wins, selector policies in the root namespace are ignored.

#include <string>

#include "gtest/gtest.h"
#include "meshid/policy/evaluate.h"
#include "policy_test_util.h"

namespace meshid::policy {
namespace {

using testing::Pa;

struct PaCase {
  const char* name;
  std::string yaml;
  uint32_t port;
  MtlsMode want;
  const char* policy;
  const char* scope;
  const char* root = "istio-system";
  const char* ns = "foo";
};

const Labels kLabels = {{"app", "finance"}};

std::vector<PaCase> Cases() {
  const std::string mesh_strict = Pa("default", "{mtls: {mode: STRICT}}", "istio-system");
  const std::string ns_permissive = Pa("default", "{mtls: {mode: PERMISSIVE}}");
  const std::string wl_strict =
      Pa("finance", "{selector: {matchLabels: {app: finance}}, mtls: {mode: STRICT}}");
  return {
      {"NothingMeansPermissive", "", 80, MtlsMode::kPermissive, "default", "default"},
      {"MeshUnsetMeansPermissive", Pa("default", "{mtls: {mode: UNSET}}", "istio-system"), 80,
       MtlsMode::kPermissive, "default", "default"},
      {"MeshEmptySpec", Pa("default", "{}", "istio-system"), 80, MtlsMode::kPermissive, "default",
       "default"},
      {"MeshStrict", mesh_strict, 80, MtlsMode::kStrict, "istio-system/default", "mesh"},
      {"MeshPolicyInOtherNamespaceIgnored", Pa("default", "{mtls: {mode: STRICT}}", "bar"), 80,
       MtlsMode::kPermissive, "default", "default"},
      {"NamespaceOverridesMesh", mesh_strict + ns_permissive, 80, MtlsMode::kPermissive,
       "foo/default", "namespace"},
      {"NamespaceUnsetInheritsMesh", mesh_strict + Pa("default", "{mtls: {mode: UNSET}}"), 80,
       MtlsMode::kStrict, "istio-system/default", "mesh"},
      {"NamespaceDisable", Pa("default", "{mtls: {mode: DISABLE}}"), 80, MtlsMode::kDisable,
       "foo/default", "namespace"},
      {"WorkloadOverridesNamespace", ns_permissive + wl_strict, 80, MtlsMode::kStrict,
       "foo/finance", "workload"},
      {"WorkloadSelectorNotMatching",
       ns_permissive + Pa("other", "{selector: {matchLabels: {app: other}}, mtls: {mode: STRICT}}"),
       80, MtlsMode::kPermissive, "foo/default", "namespace"},
      {"WorkloadUnsetInheritsNamespace",
       ns_permissive +
           Pa("finance", "{selector: {matchLabels: {app: finance}}, mtls: {mode: UNSET}}"),
       80, MtlsMode::kPermissive, "foo/default", "namespace"},
      {"PortOverridesWorkload",
       Pa("finance",
          "{selector: {matchLabels: {app: finance}}, mtls: {mode: STRICT}, "
          "portLevelMtls: {8080: {mode: DISABLE}}}"),
       8080, MtlsMode::kDisable, "foo/finance", "port"},
      {"OtherPortKeepsWorkloadMode",
       Pa("finance",
          "{selector: {matchLabels: {app: finance}}, mtls: {mode: STRICT}, "
          "portLevelMtls: {8080: {mode: DISABLE}}}"),
       8000, MtlsMode::kStrict, "foo/finance", "workload"},
      {"PortUnsetInheritsWorkloadInheritingNamespace",
       mesh_strict + Pa("finance",
                        "{selector: {matchLabels: {app: finance}}, mtls: {mode: UNSET}, "
                        "portLevelMtls: {8080: {mode: UNSET}}}"),
       8080, MtlsMode::kStrict, "istio-system/default", "mesh"},
      {"PortOverInheritedMode",
       mesh_strict + Pa("finance",
                        "{selector: {matchLabels: {app: finance}}, "
                        "portLevelMtls: {8080: {mode: PERMISSIVE}}}"),
       8080, MtlsMode::kPermissive, "foo/finance", "port"},
      {"PortLevelWithoutSelectorIgnored",
       Pa("default", "{mtls: {mode: STRICT}, portLevelMtls: {8080: {mode: DISABLE}}}"), 8080,
       MtlsMode::kStrict, "foo/default", "namespace"},
      {"RootNamespaceSelectorIgnoredElsewhere",
       Pa("r", "{selector: {matchLabels: {app: finance}}, mtls: {mode: STRICT}}", "istio-system"),
       80, MtlsMode::kPermissive, "default", "default"},
      {"RootNamespaceSelectorIgnoredInRoot",
       Pa("r", "{selector: {matchLabels: {app: finance}}, mtls: {mode: STRICT}}", "istio-system"),
       80, MtlsMode::kPermissive, "default", "default", "istio-system", "istio-system"},
      {"ConfiguredRootNamespace", Pa("default", "{mtls: {mode: STRICT}}", "mesh-root"), 80,
       MtlsMode::kStrict, "mesh-root/default", "mesh", "mesh-root"},
      {"OldestNamespacePolicyWins",
       Pa("newer", "{mtls: {mode: STRICT}}", "foo", "2024-02-01T00:00:00Z") +
           Pa("older", "{mtls: {mode: DISABLE}}", "foo", "2024-01-01T00:00:00Z"),
       80, MtlsMode::kDisable, "foo/older", "namespace"},
      {"OldestMeshPolicyWins",
       Pa("b", "{mtls: {mode: PERMISSIVE}}", "istio-system", "2023-06-01T00:00:00Z") +
           Pa("a", "{mtls: {mode: STRICT}}", "istio-system", "2023-01-01T00:00:00Z"),
       80, MtlsMode::kStrict, "istio-system/a", "mesh"},
      {"OldestWorkloadPolicyWins",
       Pa("w2", "{selector: {matchLabels: {app: finance}}, mtls: {mode: PERMISSIVE}}", "foo",
          "2024-03-01T00:00:00Z") +
           Pa("w1", "{selector: {matchLabels: {app: finance}}, mtls: {mode: STRICT}}", "foo",
              "2024-01-01T10:00:00+02:00"),
       80, MtlsMode::kStrict, "foo/w1", "workload"},
      {"OldestUnsetStillWinsItsScope",
       mesh_strict + Pa("a", "{mtls: {mode: UNSET}}", "foo", "2024-01-01T00:00:00Z") +
           Pa("b", "{mtls: {mode: DISABLE}}", "foo", "2024-02-01T00:00:00Z"),
       80, MtlsMode::kStrict, "istio-system/default", "mesh"},
      {"WithoutTimestampsFileOrderWins",
       Pa("first", "{mtls: {mode: STRICT}}") + Pa("second", "{mtls: {mode: DISABLE}}"), 80,
       MtlsMode::kStrict, "foo/first", "namespace"},
      {"TimestampedIsOlderThanUntimestamped",
       Pa("untimed", "{mtls: {mode: DISABLE}}") +
           Pa("timed", "{mtls: {mode: STRICT}}", "foo", "2024-01-01T00:00:00Z"),
       80, MtlsMode::kStrict, "foo/timed", "namespace"},
  };
}

void PrintTo(const PaCase& c, std::ostream* os) { *os << c.name; }

class PeerAuthenticationTest : public ::testing::TestWithParam<PaCase> {};

TEST_P(PeerAuthenticationTest, Resolves) {
  const PaCase& c = GetParam();
  PolicySet set = testing::MustLoad(c.yaml);
  MtlsResolution r = ResolveMtlsMode(set, Workload{c.ns, kLabels}, c.port, c.root);
  EXPECT_EQ(MtlsModeName(r.mode), MtlsModeName(c.want));
  EXPECT_EQ(r.policy, c.policy);
  EXPECT_EQ(r.scope, c.scope);
}

INSTANTIATE_TEST_SUITE_P(Istio, PeerAuthenticationTest, ::testing::ValuesIn(Cases()),
                         testing::CaseName());

}  // namespace
}  // namespace meshid::policy
