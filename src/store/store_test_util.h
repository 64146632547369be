#pragma once

// Test helpers shared by the store tests: a temporary directory per test and record makers.

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "meshid/store/data_store.h"

namespace meshid::store::testing {

// StoreTest gives each test its own directory, removed afterwards, and a database path in it.
class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "meshid-store-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    db_path_ = Path("meshid.db");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const {
    return (std::filesystem::path(dir_) / name).string();
  }

  // Open opens db_path_ and fails the test on error.
  std::unique_ptr<DataStore> Open(const SqliteOptions& options = {}) {
    absl::StatusOr<std::unique_ptr<DataStore>> store = OpenSqlite(db_path_, options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? std::move(*store) : nullptr;
  }

  std::string dir_;
  std::string db_path_;
};

// At returns a whole-second time (the store keeps seconds).
inline absl::Time At(int64_t unix_seconds) { return absl::FromUnixSeconds(unix_seconds); }

inline IssuanceRecord MakeIssuance(const std::string& serial, const std::string& node = "node-1") {
  IssuanceRecord r;
  r.serial = serial;
  r.spiffe_id = absl::StrCat("spiffe://example.org/ns/default/sa/", serial);
  r.kind = "workload";
  r.node = node;
  r.issuing_ca_serial = "ca01";
  r.not_before = At(1'700'000'000);
  r.not_after = At(1'700'003'600);
  r.issued_at = At(1'700'000'000);
  return r;
}

}  // namespace meshid::store::testing
