#include "meshid/pki/crypto.h"

#include <set>
#include <string>

#include <fcntl.h>
#include <unistd.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/pki/csr.h"
#include "meshid/testing/fake_clock.h"
#include "meshid/testing/temp_dir.h"
#include "meshid/testing/test_pki.h"

namespace meshid::pki {
namespace {

using ::testing::ElementsAre;
using testing::kTestEpoch;
using testing::TestPki;

TEST(CryptoTest, RandomBytesAndSha256) {
  std::set<std::string> seen;
  for (int i = 0; i < 10; ++i) seen.insert(*RandomBytes(16));
  EXPECT_EQ(seen.size(), 10u);
  EXPECT_EQ(RandomBytes(32)->size(), 32u);
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// OpenWith writes `content` to a new file in `dir` and returns it open for reading.
int OpenWith(const testing::TempDir& dir, const std::string& name, const std::string& content) {
  std::string path = dir.Path(name);
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  if (write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST(CryptoTest, Sha256HexOfFileMatchesSha256Hex) {
  testing::TempDir dir;
  // Several 64 KiB blocks and a partial one, so block boundaries are exercised.
  std::string big;
  for (int i = 0; i < 200000; ++i) big.push_back(static_cast<char>(i * 7 + i / 256));
  for (const std::string& content : {std::string(), std::string("abc"), big}) {
    int fd = OpenWith(dir, "f" + std::to_string(content.size()), content);
    ASSERT_GE(fd, 0);
    // The digest covers the whole file whatever the offset, and leaves the offset alone.
    off_t offset = content.empty() ? 0 : 1;
    ASSERT_EQ(lseek(fd, offset, SEEK_SET), offset);
    absl::StatusOr<std::string> digest = Sha256HexOfFile(fd, content.size());
    ASSERT_TRUE(digest.ok()) << digest.status();
    EXPECT_EQ(*digest, Sha256Hex(content));
    EXPECT_EQ(lseek(fd, 0, SEEK_CUR), offset);
    close(fd);
  }
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(CryptoTest, Sha256HexOfFileEnforcesTheLimit) {
  testing::TempDir dir;
  int fd = OpenWith(dir, "f", "0123456789");
  ASSERT_GE(fd, 0);
  EXPECT_TRUE(Sha256HexOfFile(fd, 10).ok());
  absl::StatusOr<std::string> over = Sha256HexOfFile(fd, 9);
  EXPECT_EQ(over.status().code(), absl::StatusCode::kResourceExhausted) << over.status();
  EXPECT_EQ(Sha256HexOfFile(fd, 0).status().code(), absl::StatusCode::kResourceExhausted);
  close(fd);
}

TEST(CryptoTest, Sha256HexOfFileRejectsWhatIsNotARegularFile) {
  testing::TempDir dir;
  int dir_fd = open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dir_fd, 0);
  EXPECT_EQ(Sha256HexOfFile(dir_fd, 1 << 20).status().code(), absl::StatusCode::kInvalidArgument);
  close(dir_fd);
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  EXPECT_EQ(Sha256HexOfFile(pipe_fds[0], 1 << 20).status().code(),
            absl::StatusCode::kInvalidArgument);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  EXPECT_EQ(Sha256HexOfFile(-1, 1 << 20).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(CryptoTest, FindRootKeys) {
  TestPki pki = TestPki::Create(kTestEpoch);
  std::string root_key(pki.root.key.ToPkcs8Pem()->view());
  std::string int_key(pki.intermediate.key.ToPkcs8Pem()->view());
  std::string encrypted(pki.intermediate.key.ToEncryptedPkcs8Pem("pw")->view());
  std::vector<Certificate> roots = {pki.root.certificate};
  std::vector<std::pair<std::string, absl::string_view>> files = {
      {"ca.key", int_key},
      {"old-root.pem", root_key},
      {"backup.key", encrypted},
      {"root.key.enc", encrypted},
      {"ca.crt", "-----BEGIN CERTIFICATE-----"}};
  EXPECT_THAT(FindRootKeys(files, roots), ElementsAre("old-root.pem", "root.key.enc"));
}

TEST(CsrTest, RequestsCa) {
  TestPki pki = TestPki::Create(kTestEpoch);
  PrivateKey key = *PrivateKey::Generate(KeyType::kEcP256);
  CertificateRequest plain =
      *CertificateRequest::Create(key, *SpiffeId::Parse("spiffe://example.org/a"));
  EXPECT_FALSE(plain.RequestsCa());
  absl::StatusOr<std::string> ca_pem = testing::BuildCsrPem(
      key,
      {{"subjectAltName", "URI:spiffe://example.org/a"}, {"basicConstraints", "critical,CA:TRUE"}});
  ASSERT_TRUE(ca_pem.ok()) << ca_pem.status();
  EXPECT_TRUE(CertificateRequest::Parse(*ca_pem)->RequestsCa());
}

}  // namespace
}  // namespace meshid::pki
