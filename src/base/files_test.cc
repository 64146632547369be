#include "meshid/base/files.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

#include "gtest/gtest.h"

namespace meshid::base {
namespace {

namespace fs = std::filesystem;

class FilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (fs::temp_directory_path() / "meshid-files-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string Path(const std::string& name) const { return (fs::path(dir_) / name).string(); }

  static mode_t ModeOf(const std::string& path) {
    struct stat st;
    EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
    return st.st_mode & 07777;
  }

  std::string dir_;
};

TEST_F(FilesTest, ReadFileReturnsContents) {
  std::ofstream(Path("a")) << "hello";
  absl::StatusOr<std::string> data = ReadFile(Path("a"));
  ASSERT_TRUE(data.ok()) << data.status();
  EXPECT_EQ(*data, "hello");
}

TEST_F(FilesTest, ReadFileNamesThePathInEveryError) {
  absl::StatusOr<std::string> missing = ReadFile(Path("nope"));
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find(Path("nope")), std::string::npos);

  absl::StatusOr<std::string> directory = ReadFile(dir_);
  EXPECT_EQ(directory.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(directory.status().message().find("is a directory"), std::string::npos);

  std::ofstream(Path("big")) << std::string(2048, 'x');
  absl::StatusOr<std::string> big = ReadFile(Path("big"), 1024);
  EXPECT_EQ(big.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(big.status().message().find("larger than"), std::string::npos);
}

TEST_F(FilesTest, CommitWritesEveryFileWithItsMode) {
  StagedFiles files;
  files.Add(Path("out/cert.pem"), "cert", 0644);
  files.AddSecret(Path("out/key.pem"), SecretString("key"));
  ASSERT_TRUE(files.CheckNoneExist().ok());
  ASSERT_TRUE(files.Commit(false).ok());
  EXPECT_EQ(*ReadFile(Path("out/cert.pem")), "cert");
  EXPECT_EQ(*ReadFile(Path("out/key.pem")), "key");
  EXPECT_EQ(ModeOf(Path("out/cert.pem")), 0644u);
  EXPECT_EQ(ModeOf(Path("out/key.pem")), 0600u);
  EXPECT_EQ(ModeOf(Path("out")), 0700u) << "a directory holding a key is private";
}

TEST_F(FilesTest, CheckNoneExistNamesTheExistingFile) {
  std::ofstream(Path("taken")) << "x";
  StagedFiles files;
  files.Add(Path("free"), "a", 0644);
  files.Add(Path("taken"), "b", 0644);
  absl::Status status = files.CheckNoneExist();
  EXPECT_EQ(status.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_NE(status.message().find(Path("taken")), std::string::npos);
  EXPECT_NE(status.message().find("--force"), std::string::npos);
}

TEST_F(FilesTest, FailedCommitLeavesNothingBehind) {
  // A regular file where a directory must go makes the second entry fail.
  std::ofstream(Path("blocker")) << "x";
  StagedFiles files;
  files.Add(Path("new/a.pem"), "a", 0644);
  files.Add(Path("blocker/b.pem"), "b", 0644);
  EXPECT_FALSE(files.Commit(false).ok());
  EXPECT_FALSE(PathExists(Path("new"))) << "directories Commit made are removed";
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

TEST_F(FilesTest, CommitReplacesAnExistingFileOnlyWhenAskedTo) {
  std::ofstream(Path("f")) << "old";
  StagedFiles files;
  files.Add(Path("f"), "new", 0644);
  // A file that appeared after CheckNoneExist is not overwritten.
  absl::Status refused = files.Commit(false);
  EXPECT_EQ(refused.code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(*ReadFile(Path("f")), "old");
  ASSERT_TRUE(files.Commit(true).ok());
  EXPECT_EQ(*ReadFile(Path("f")), "new");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1)
      << "no temporary or backup file is left";
}

TEST_F(FilesTest, AFailureHalfwayRestoresWhatWasReplaced) {
  std::ofstream(Path("a")) << "old a";
  std::ofstream(Path("b")) << "old b";
  fs::create_directory(Path("c"));  // cannot be replaced by a file
  StagedFiles files;
  files.Add(Path("a"), "new a", 0644);
  files.Add(Path("b"), "new b", 0600);
  files.Add(Path("c"), "new c", 0644);
  files.Add(Path("d"), "new d", 0644);
  EXPECT_FALSE(files.Commit(true).ok());
  EXPECT_EQ(*ReadFile(Path("a")), "old a");
  EXPECT_EQ(*ReadFile(Path("b")), "old b");
  EXPECT_TRUE(IsDirectory(Path("c")));
  EXPECT_FALSE(PathExists(Path("d")));
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 3);
}

TEST_F(FilesTest, RefusesTwoSpellingsOfOneTarget) {
  StagedFiles files;
  files.Add(Path("x"), "key", 0600);
  files.Add(dir_ + "/./x", "csr", 0644);
  absl::Status status = files.Commit(false);
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("same file"), std::string::npos);
  EXPECT_FALSE(PathExists(Path("x")));
}

TEST_F(FilesTest, IsRegularFile) {
  std::ofstream(Path("f")) << "x";
  EXPECT_TRUE(IsRegularFile(Path("f")));
  EXPECT_FALSE(IsRegularFile(dir_));
  EXPECT_FALSE(IsRegularFile(Path("missing")));
}

}  // namespace
}  // namespace meshid::base
