#pragma once

#include <filesystem>
#include <string>

#include <stdlib.h>

namespace meshid::testing {

// TempDir is a fresh directory under the system's temporary directory, removed with its
// contents when destroyed unless Keep() was called (to look at it after a failure).
class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "meshid-test-XXXXXX").string();
    if (mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~TempDir() {
    if (!keep_ && !path_.empty()) std::filesystem::remove_all(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  // Path returns `name` inside the directory.
  std::string Path(const std::string& name) const { return path_ + "/" + name; }
  void Keep() { keep_ = true; }

 private:
  std::string path_;
  bool keep_ = false;
};

}  // namespace meshid::testing
