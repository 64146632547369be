#pragma once

#include <string>
#include <vector>

#include <sys/types.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "meshid/base/secret.h"

namespace meshid::base {

// kDefaultMaxFileBytes bounds what ReadFile accepts unless told otherwise: certificate,
// key and bundle files are kilobytes, and a Kubernetes Secret is at most 1 MiB.
inline constexpr size_t kDefaultMaxFileBytes = size_t{1024} * 1024;

// ReadFile returns the contents of the regular file at `path`. Errors name the path and say
// what is wrong: NotFound when it does not exist, InvalidArgument when it is a directory or
// larger than `max_bytes`, PermissionDenied when it cannot be read.
absl::StatusOr<std::string> ReadFile(const std::string& path,
                                     size_t max_bytes = kDefaultMaxFileBytes);

// ReadSecretFile is ReadFile for files holding secrets (keys, passphrases); the buffer is
// wiped when the result is destroyed.
absl::StatusOr<SecretString> ReadSecretFile(const std::string& path,
                                            size_t max_bytes = kDefaultMaxFileBytes);

// PathExists reports whether anything (file, directory, link) exists at `path`.
bool PathExists(const std::string& path);
bool IsDirectory(const std::string& path);
bool IsRegularFile(const std::string& path);

// MakePrivateDir creates `path` and its missing parents and sets it to mode 0700; errors
// (Unavailable) name the path.
absl::Status MakePrivateDir(const std::string& path);

// StagedFiles writes a set of files all-or-nothing. Add() only records what to write;
// Commit() creates missing parent directories (0700 when they will hold a file of mode 0600,
// else 0755), writes every file to a temporary name beside its target and flushes it, then
// puts each into place. Without `overwrite` a file is placed with link(2), which fails
// rather than replace a file that appeared meanwhile; with it, a replaced file is first
// kept under a backup name. If any step fails, the files already placed are removed or
// restored from their backups, and temporary files and the directories Commit created are
// removed: a failed command leaves the tree as it found it (short of a crash mid-way).
class StagedFiles {
 public:
  StagedFiles() = default;
  StagedFiles(const StagedFiles&) = delete;
  StagedFiles& operator=(const StagedFiles&) = delete;

  void Add(std::string path, absl::string_view content, mode_t mode);
  void AddSecret(std::string path, SecretString content);

  // CheckNoneExist fails with AlreadyExists naming the first target that already exists.
  absl::Status CheckNoneExist() const;

  absl::Status Commit(bool overwrite);

  // paths lists the targets in the order they were added.
  std::vector<std::string> paths() const;

 private:
  struct Entry {
    std::string path;
    SecretString content;
    mode_t mode;
  };
  std::vector<Entry> entries_;
};

}  // namespace meshid::base
