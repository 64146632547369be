#include "meshid/base/files.h"

#include <algorithm>
#include <filesystem>

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace meshid::base {
namespace {

std::string ErrnoText(int err) { return std::string(strerror(err)); }

std::string HumanSize(size_t bytes) {
  if (bytes >= size_t{1024} * 1024) {
    return absl::StrFormat("%.1f MiB", static_cast<double>(bytes) / (1024 * 1024));
  }
  if (bytes >= 1024) {
    return absl::StrFormat("%.1f KiB", static_cast<double>(bytes) / 1024);
  }
  return absl::StrCat(bytes, " bytes");
}

absl::Status OpenError(const std::string& path, int err) {
  switch (err) {
    case ENOENT:
      return absl::NotFoundError(absl::StrCat(path, ": no such file"));
    case EACCES:
      return absl::PermissionDeniedError(absl::StrCat(path, ": permission denied"));
    default:
      return absl::UnavailableError(absl::StrCat(path, ": ", ErrnoText(err)));
  }
}

// WriteAll writes `content` to a new file at `path` with `mode`, then fsyncs it.
absl::Status WriteNewFile(const std::string& path, absl::string_view content, mode_t mode) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    return absl::UnavailableError(absl::StrCat(path, ": cannot create: ", ErrnoText(errno)));
  }
  // The umask may have narrowed the mode; set it exactly (it can only be 0600 or wider by
  // the caller's choice).
  absl::Status status;
  if (fchmod(fd, mode) != 0) {
    status = absl::UnavailableError(absl::StrCat(path, ": chmod: ", ErrnoText(errno)));
  }
  size_t done = 0;
  while (status.ok() && done < content.size()) {
    ssize_t n = write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      status = absl::UnavailableError(absl::StrCat(path, ": write: ", ErrnoText(errno)));
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (status.ok() && fsync(fd) != 0) {
    status = absl::UnavailableError(absl::StrCat(path, ": fsync: ", ErrnoText(errno)));
  }
  if (close(fd) != 0 && status.ok()) {
    status = absl::UnavailableError(absl::StrCat(path, ": close: ", ErrnoText(errno)));
  }
  return status;
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path, size_t max_bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return OpenError(path, errno);
  }
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    close(fd);
    return OpenError(path, err);
  }
  if (S_ISDIR(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory, expected a file"));
  }
  // Pipes and character devices (/dev/stdin) have no size: read up to one byte past the
  // limit to tell whether they exceed it.
  bool sized = S_ISREG(st.st_mode);
  if (!sized && !S_ISFIFO(st.st_mode) && !S_ISCHR(st.st_mode)) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, ": is not a regular file"));
  }
  if (sized && static_cast<size_t>(st.st_size) > max_bytes) {
    close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, ": file is ", HumanSize(st.st_size),
                                                   ", larger than the ", HumanSize(max_bytes),
                                                   " this input may be"));
  }
  std::string data;
  data.resize(sized ? static_cast<size_t>(st.st_size) : max_bytes + 1);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = read(fd, data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int err = errno;
      close(fd);
      SecureZero(data.data(), data.size());
      return absl::UnavailableError(absl::StrCat(path, ": read: ", ErrnoText(err)));
    }
    if (n == 0) break;
    done += static_cast<size_t>(n);
  }
  close(fd);
  if (done > max_bytes) {
    SecureZero(data.data(), data.size());
    return absl::InvalidArgumentError(absl::StrCat(path, ": input is larger than the ",
                                                   HumanSize(max_bytes), " this input may be"));
  }
  data.resize(done);
  return data;
}

absl::StatusOr<SecretString> ReadSecretFile(const std::string& path, size_t max_bytes) {
  absl::StatusOr<std::string> data = ReadFile(path, max_bytes);
  if (!data.ok()) return data.status();
  return SecretString(std::move(*data));
}

bool PathExists(const std::string& path) {
  struct stat st;
  return lstat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool IsRegularFile(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

void StagedFiles::Add(std::string path, absl::string_view content, mode_t mode) {
  entries_.push_back(Entry{std::move(path), SecretString(std::string(content)), mode});
}

void StagedFiles::AddSecret(std::string path, SecretString content) {
  entries_.push_back(Entry{std::move(path), std::move(content), 0600});
}

absl::Status StagedFiles::CheckNoneExist() const {
  for (const Entry& e : entries_) {
    if (PathExists(e.path)) {
      return absl::AlreadyExistsError(
          absl::StrCat(e.path, ": already exists; pass --force to overwrite it"));
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> StagedFiles::paths() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const Entry& e : entries_) out.push_back(e.path);
  return out;
}

absl::Status StagedFiles::Commit(bool overwrite) {
  namespace fs = std::filesystem;
  // Two spellings of one file ("x" and "./x") would share a temporary and a target.
  for (size_t i = 0; i < entries_.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      std::error_code ec;
      auto resolved = [&ec](const std::string& p) {
        return fs::weakly_canonical(fs::absolute(p, ec), ec);
      };
      if (resolved(entries_[i].path) == resolved(entries_[j].path)) {
        return absl::InvalidArgumentError(absl::StrCat(entries_[j].path, " and ", entries_[i].path,
                                                       " are the same file; give two paths"));
      }
    }
  }

  struct Placement {
    std::string temp;
    std::string backup;  // set when an existing target was kept aside
    bool placed = false;
  };
  std::vector<Placement> placements(entries_.size());
  std::vector<std::string> created_dirs;  // outermost first
  auto rollback = [&](absl::Status status) {
    for (size_t i = 0; i < placements.size(); ++i) {
      Placement& p = placements[i];
      if (p.placed) {
        if (!p.backup.empty()) {
          rename(p.backup.c_str(), entries_[i].path.c_str());
          p.backup.clear();
        } else {
          unlink(entries_[i].path.c_str());
        }
      }
      if (!p.temp.empty()) unlink(p.temp.c_str());
      if (!p.backup.empty()) unlink(p.backup.c_str());
    }
    for (auto it = created_dirs.rbegin(); it != created_dirs.rend(); ++it) rmdir(it->c_str());
    return status;
  };

  for (const Entry& e : entries_) {
    fs::path parent = fs::path(e.path).parent_path();
    if (parent.empty()) continue;
    std::vector<fs::path> missing;
    for (fs::path p = parent; !p.empty() && !PathExists(p.string()); p = p.parent_path()) {
      missing.push_back(p);
      if (p == p.parent_path()) break;
    }
    bool holds_secret = std::any_of(entries_.begin(), entries_.end(), [&](const Entry& other) {
      return other.mode == 0600 && fs::path(other.path).parent_path() == parent;
    });
    for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
      mode_t mode = (*it == parent && holds_secret) ? 0700 : 0755;
      if (mkdir(it->c_str(), mode) != 0) {
        return rollback(absl::UnavailableError(
            absl::StrCat(it->string(), ": cannot create directory: ", ErrnoText(errno))));
      }
      chmod(it->c_str(), mode);
      created_dirs.push_back(it->string());
    }
    if (!IsDirectory(parent.string())) {
      return rollback(absl::InvalidArgumentError(
          absl::StrCat(parent.string(), ": exists and is not a directory")));
    }
  }

  std::string tag = absl::StrCat(getpid());
  for (size_t i = 0; i < entries_.size(); ++i) {
    const Entry& e = entries_[i];
    std::string temp = absl::StrCat(e.path, ".tmp-", tag, "-", i);
    unlink(temp.c_str());
    absl::Status status = WriteNewFile(temp, e.content.view(), e.mode);
    if (!status.ok()) {
      unlink(temp.c_str());
      return rollback(status);
    }
    placements[i].temp = temp;
  }

  for (size_t i = 0; i < entries_.size(); ++i) {
    const std::string& target = entries_[i].path;
    Placement& p = placements[i];
    if (overwrite && PathExists(target)) {
      if (IsDirectory(target)) {
        return rollback(
            absl::InvalidArgumentError(absl::StrCat(target, ": is a directory, not a file")));
      }
      std::string backup = absl::StrCat(target, ".bak-", tag, "-", i);
      unlink(backup.c_str());
      if (link(target.c_str(), backup.c_str()) != 0) {
        return rollback(absl::UnavailableError(
            absl::StrCat(target, ": cannot keep a backup: ", ErrnoText(errno))));
      }
      p.backup = backup;
    }
    if (overwrite) {
      if (rename(p.temp.c_str(), target.c_str()) != 0) {
        return rollback(absl::UnavailableError(
            absl::StrCat(target, ": cannot move into place: ", ErrnoText(errno))));
      }
    } else {
      // link(2) fails with EEXIST instead of replacing: no check-then-act race.
      if (link(p.temp.c_str(), target.c_str()) != 0) {
        int err = errno;
        return rollback(err == EEXIST
                            ? absl::AlreadyExistsError(absl::StrCat(
                                  target, ": already exists; pass --force to overwrite it"))
                            : absl::UnavailableError(absl::StrCat(
                                  target, ": cannot move into place: ", ErrnoText(err))));
      }
      unlink(p.temp.c_str());
    }
    p.temp.clear();
    p.placed = true;
  }
  for (Placement& p : placements) {
    if (!p.backup.empty()) unlink(p.backup.c_str());
  }
  return absl::OkStatus();
}

absl::Status MakePrivateDir(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return absl::UnavailableError(absl::StrCat(path, ": cannot create: ", ec.message()));
  if (chmod(path.c_str(), 0700) != 0) {
    return absl::UnavailableError(absl::StrCat(path, ": cannot set mode 0700"));
  }
  return absl::OkStatus();
}

}  // namespace meshid::base
