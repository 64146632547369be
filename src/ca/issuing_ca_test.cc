#include "issuing_ca.h"

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/pki/verify.h"
#include "meshid/testing/fake_clock.h"
#include "meshid/testing/temp_dir.h"
#include "meshid/testing/test_pki.h"

namespace meshid::ca {
namespace {

namespace fs = std::filesystem;
using testing::FakeClock;
using testing::kTestEpoch;

constexpr absl::Duration kTtl = absl::Hours(24);

class IssuingCaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_ + "/keys");
    store_ = *store::OpenSqlite(dir_ + "/ca.db");
  }

  std::unique_ptr<IssuingCaManager> Manager() {
    pki::CaDirectory upstream{
        pki_.intermediate, {pki_.intermediate.certificate}, {pki_.root.certificate}, false};
    return std::make_unique<IssuingCaManager>(
        upstream, *store_,
        IssuingCaOptions{pki_.trust_domain, kTtl, pki::KeyType::kEcP256, dir_ + "/keys"}, clock_);
  }

  int Count(const std::vector<SlotView>& slots, store::SlotState state) {
    return static_cast<int>(std::count_if(slots.begin(), slots.end(),
                                          [state](const SlotView& s) { return s.state == state; }));
  }

  testing::TestPki pki_ = testing::TestPki::Create(kTestEpoch);
  FakeClock clock_{kTestEpoch};
  testing::TempDir temp_;
  std::string dir_ = temp_.path();
  std::unique_ptr<store::DataStore> store_;
};

TEST_F(IssuingCaTest, RotatesThroughTheSlots) {
  std::unique_ptr<IssuingCaManager> cas = Manager();
  ASSERT_TRUE(cas->Initialize().ok());
  std::shared_ptr<const SigningCa> first = cas->Active();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->slot, "A");
  EXPECT_EQ(first->signer.certificate.path_len(), 0);
  EXPECT_EQ(first->chain.size(), 2u) << "issuing CA then the upstream";
  EXPECT_TRUE(first->signer.certificate.IsIssuedBy(pki_.intermediate.certificate));

  // Before half life: nothing to do; the next event is the preparation.
  absl::StatusOr<absl::Time> next = cas->Tick();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(*next, kTestEpoch + kTtl / 2);

  clock_.Set(*next);
  next = cas->Tick();
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(Count(cas->Slots(), store::SlotState::kPrepared), 1);
  EXPECT_EQ(cas->Active()->serial, first->serial) << "prepared, not yet active";
  EXPECT_EQ(*next, kTestEpoch + kTtl * 5 / 6);

  int activations = 0;
  cas->OnActivate([&activations](const SigningCa&) { ++activations; });
  clock_.Set(*next);
  ASSERT_TRUE(cas->Tick().ok());
  std::shared_ptr<const SigningCa> second = cas->Active();
  EXPECT_NE(second->serial, first->serial);
  EXPECT_EQ(second->slot, "B");
  EXPECT_EQ(activations, 1);
  EXPECT_EQ(Count(cas->Slots(), store::SlotState::kRetired), 1);

  // Once the old one expires it is forgotten, key file and all.
  clock_.Set(first->signer.certificate.not_after() + absl::Seconds(1));
  ASSERT_TRUE(cas->Tick().ok());
  EXPECT_EQ(Count(cas->Slots(), store::SlotState::kRetired), 0);
  EXPECT_FALSE(fs::exists(dir_ + "/keys/issuing-" + first->serial + ".key"));
}

TEST_F(IssuingCaTest, ARestartResumesTheJournal) {
  std::unique_ptr<IssuingCaManager> cas = Manager();
  ASSERT_TRUE(cas->Initialize().ok());
  clock_.Set(kTestEpoch + kTtl / 2);
  ASSERT_TRUE(cas->Tick().ok());  // prepares B
  std::string active = cas->Active()->serial;

  std::unique_ptr<IssuingCaManager> restarted = Manager();
  ASSERT_TRUE(restarted->Initialize().ok());
  EXPECT_EQ(restarted->Active()->serial, active);
  EXPECT_EQ(Count(restarted->Slots(), store::SlotState::kPrepared), 1) << "B kept its place";
  for (const fs::directory_entry& key : fs::directory_iterator(dir_ + "/keys")) {
    EXPECT_EQ(fs::status(key).permissions() & fs::perms::all,
              fs::perms::owner_read | fs::perms::owner_write)
        << key.path();
  }
}

TEST_F(IssuingCaTest, AServerDownPastItsCaStartsOver) {
  std::unique_ptr<IssuingCaManager> cas = Manager();
  ASSERT_TRUE(cas->Initialize().ok());
  std::string old = cas->Active()->serial;
  clock_.Advance(kTtl * 2);
  std::unique_ptr<IssuingCaManager> restarted = Manager();
  ASSERT_TRUE(restarted->Initialize().ok());
  EXPECT_NE(restarted->Active()->serial, old);
  EXPECT_TRUE(restarted->Active()->signer.certificate.IsValidAt(clock_.Now()));
}

TEST_F(IssuingCaTest, NeverOutlivesTheUpstreamAndStopsRotatingAtItsEnd) {
  absl::Time upstream_end = pki_.intermediate.certificate.not_after();
  clock_.Set(upstream_end - absl::Hours(10));  // less than one TTL left
  std::unique_ptr<IssuingCaManager> cas = Manager();
  ASSERT_TRUE(cas->Initialize().ok());
  EXPECT_EQ(cas->Active()->signer.certificate.not_after(), upstream_end);
  clock_.Advance(absl::Hours(9));
  absl::StatusOr<absl::Time> next = cas->Tick();
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(Count(cas->Slots(), store::SlotState::kPrepared), 0)
      << "a successor would end at the same time: no churn";
  EXPECT_EQ(*next, upstream_end);
}

TEST_F(IssuingCaTest, AMissingKeyFileMeansANewCa) {
  std::unique_ptr<IssuingCaManager> cas = Manager();
  ASSERT_TRUE(cas->Initialize().ok());
  std::string old = cas->Active()->serial;
  fs::remove(dir_ + "/keys/issuing-" + old + ".key");
  std::unique_ptr<IssuingCaManager> restarted = Manager();
  ASSERT_TRUE(restarted->Initialize().ok());
  EXPECT_NE(restarted->Active()->serial, old);
}

TEST(RotationPointsTest, HalfAndFiveSixths) {
  absl::Time t0 = kTestEpoch;
  EXPECT_EQ(PrepareAt(t0, t0 + absl::Hours(24)), t0 + absl::Hours(12));
  EXPECT_EQ(ActivateAt(t0, t0 + absl::Hours(24)), t0 + absl::Hours(20));
}

}  // namespace
}  // namespace meshid::ca
