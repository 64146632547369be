#pragma once

// Private to the ca module's tests and benchmarks: a CA in process — a test PKI whose
// intermediate is the upstream, a SQLite store in a temporary directory, an issuing CA and
// an Authority — on the clock given.

#include <filesystem>
#include <memory>

#include "authority.h"
#include "ca_metrics.h"
#include "issuing_ca.h"
#include "meshid/testing/temp_dir.h"
#include "meshid/testing/test_pki.h"

namespace meshid::ca {

struct TestAuthority {
  explicit TestAuthority(const base::Clock& clock_in,
                         CaConfig config_in = CaConfig{*pki::TrustDomain::Parse("example.org")})
      : clock(clock_in),
        pki(testing::TestPki::Create(clock_in.Now())),
        config(std::move(config_in)) {
    std::filesystem::create_directories(dir.Path("keys"));
    store = *store::OpenSqlite(dir.Path("ca.db"));
    pki::CaDirectory upstream{
        pki.intermediate, {pki.intermediate.certificate}, {pki.root.certificate}, false};
    cas = std::make_unique<IssuingCaManager>(
        upstream, *store,
        IssuingCaOptions{pki.trust_domain, absl::Hours(24), pki::KeyType::kEcP256,
                         dir.Path("keys")},
        clock);
    initialized = cas->Initialize();
    authority = std::make_unique<Authority>(config, *store, *cas, clock, ca_metrics);
    if (initialized.ok()) initialized = authority->Initialize();
  }

  const base::Clock& clock;
  testing::TempDir dir;
  testing::TestPki pki;
  CaConfig config;
  telemetry::Metrics metrics;
  CaMetrics ca_metrics{metrics};
  std::unique_ptr<store::DataStore> store;
  std::unique_ptr<IssuingCaManager> cas;
  std::unique_ptr<Authority> authority;
  absl::Status initialized;  // what Initialize returned, for tests to assert
};

}  // namespace meshid::ca
