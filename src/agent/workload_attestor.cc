#include "workload_attestor.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "meshid/base/log.h"
#include "meshid/base/status.h"
#include "meshid/pki/crypto.h"

namespace meshid::agent {
namespace {

spdlog::logger& Log() { return *base::Logger("agent"); }

// /proc/<pid>/status is ~1.5 KiB, but "Groups:" can list up to 65536 groups.
constexpr size_t kMaxStatusBytes = size_t{1024} * 1024;
constexpr size_t kMaxStatBytes = size_t{64} * 1024;

// Fd owns a file descriptor.
class Fd {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&&) = delete;
  ~Fd() {
    if (fd_ >= 0) close(fd_);
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

// ProcError turns the errno of a /proc access into a status. ESRCH is what an open
// /proc/<pid> directory answers once its process is gone.
absl::Status ProcError(int err, pid_t pid, absl::string_view what) {
  std::string message = absl::StrCat("process ", pid, ": ", what, ": ", strerror(err));
  switch (err) {
    case ENOENT:
    case ESRCH:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::UnavailableError(message);
  }
}

absl::StatusOr<Fd> OpenProcDir(const std::string& proc_root, pid_t pid) {
  if (pid <= 0) return absl::InvalidArgumentError(absl::StrCat("invalid pid ", pid));
  std::string path = absl::StrCat(proc_root, "/", pid);
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ProcError(errno, pid, path);
  return Fd(fd);
}

// ReadProcFile returns the contents of `name` under the open /proc/<pid> directory. procfs
// files report size 0, so this reads to the end of the file.
absl::StatusOr<std::string> ReadProcFile(const Fd& dir, pid_t pid, const char* name,
                                         size_t max_bytes) {
  Fd fd(openat(dir.get(), name, O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return ProcError(errno, pid, name);
  std::string data;
  char buf[4096];
  while (true) {
    ssize_t n = read(fd.get(), buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return ProcError(errno, pid, name);
    if (n == 0) break;
    data.append(buf, static_cast<size_t>(n));
    if (data.size() > max_bytes) {
      return absl::InvalidArgumentError(
          absl::StrCat("process ", pid, ": ", name, " is larger than ", max_bytes, " bytes"));
    }
  }
  return data;
}

absl::StatusOr<uint64_t> ParseStartTime(absl::string_view stat) {
  // "pid (comm) state ppid ... starttime ...": comm is the only field that may hold spaces
  // or parentheses, and it is followed by field 3.
  size_t close = stat.rfind(')');
  if (close == absl::string_view::npos || stat.find('(') > close) {
    return absl::InvalidArgumentError("stat: no command name in parentheses");
  }
  std::vector<absl::string_view> fields =
      absl::StrSplit(stat.substr(close + 1), absl::ByAnyChar(" \n"), absl::SkipEmpty());
  constexpr size_t kStartTime = 22 - 3;  // fields[0] is field 3
  uint64_t start_time = 0;
  if (fields.size() <= kStartTime || !absl::SimpleAtoi(fields[kStartTime], &start_time)) {
    return absl::InvalidArgumentError("stat: no start time in field 22");
  }
  return start_time;
}

struct ProcStatus {
  uid_t euid = 0;
  gid_t egid = 0;
  std::vector<gid_t> groups;
};

// ParseStatus reads the effective uid and gid and the supplementary groups from the
// "Uid:", "Gid:" (real, effective, saved, filesystem) and "Groups:" lines of a status file.
absl::StatusOr<ProcStatus> ParseStatus(absl::string_view status) {
  ProcStatus result;
  bool have_uid = false;
  bool have_gid = false;
  bool have_groups = false;
  for (absl::string_view line : absl::StrSplit(status, '\n')) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits(':', 1));
    std::vector<absl::string_view> values =
        absl::StrSplit(kv.second, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (kv.first == "Uid" || kv.first == "Gid") {
      uint32_t effective = 0;
      if (values.size() < 2 || !absl::SimpleAtoi(values[1], &effective)) {
        return absl::InvalidArgumentError(absl::StrCat("status: bad ", kv.first, " line"));
      }
      if (kv.first == "Uid") {
        result.euid = effective;
        have_uid = true;
      } else {
        result.egid = effective;
        have_gid = true;
      }
    } else if (kv.first == "Groups") {
      for (absl::string_view value : values) {
        uint32_t gid = 0;
        if (!absl::SimpleAtoi(value, &gid)) {
          return absl::InvalidArgumentError("status: bad Groups line");
        }
        result.groups.push_back(gid);
      }
      have_groups = true;
    }
  }
  if (!have_uid || !have_gid || !have_groups) {
    return absl::InvalidArgumentError("status: no Uid, Gid or Groups line");
  }
  return result;
}

// NssBufferSize is the first buffer size to try for getpwuid_r / getgrgid_r.
size_t NssBufferSize(int name) {
  long size = sysconf(name);
  return size > 0 ? static_cast<size_t>(size) : 16384;
}

// UserName returns the name of `uid`, or nothing when it has none (or NSS fails).
std::optional<std::string> UserName(uid_t uid) {
  // A remote directory, or a group with many members, can need more than the hint.
  for (size_t size = NssBufferSize(_SC_GETPW_R_SIZE_MAX); size <= size_t{1} << 20; size *= 2) {
    std::vector<char> buf(size);
    struct passwd pwd;
    struct passwd* found = nullptr;
    int err = getpwuid_r(uid, &pwd, buf.data(), buf.size(), &found);
    if (err == ERANGE) continue;
    if (err != 0 || found == nullptr) return std::nullopt;
    return std::string(found->pw_name);
  }
  return std::nullopt;
}

std::optional<std::string> GroupName(gid_t gid) {
  for (size_t size = NssBufferSize(_SC_GETGR_R_SIZE_MAX); size <= size_t{1} << 20; size *= 2) {
    std::vector<char> buf(size);
    struct group grp;
    struct group* found = nullptr;
    int err = getgrgid_r(gid, &grp, buf.data(), buf.size(), &found);
    if (err == ERANGE) continue;
    if (err != 0 || found == nullptr) return std::nullopt;
    return std::string(found->gr_name);
  }
  return std::nullopt;
}

absl::StatusOr<std::string> ReadExeLink(const Fd& dir, pid_t pid) {
  // The kernel prints at most a page; anything that fills the buffer is refused.
  std::vector<char> buf(8192);
  ssize_t n = readlinkat(dir.get(), "exe", buf.data(), buf.size());
  if (n < 0) return ProcError(errno, pid, "exe");
  if (static_cast<size_t>(n) == buf.size()) {
    return absl::InvalidArgumentError(absl::StrCat("process ", pid, ": exe path too long"));
  }
  return std::string(buf.data(), static_cast<size_t>(n));
}

// PathNamesFile reports whether `path`, resolved in the agent's own view of the file
// system, is the file `file` describes. The kernel prints /proc/<pid>/exe as seen from the
// reader's root but from the process's mounts, and appends " (deleted)" to a name that is
// gone: only this comparison says whether the text names the binary the process runs.
bool PathNamesFile(const std::string& path, const struct stat& file) {
  struct stat st;
  return !path.empty() && path[0] == '/' && stat(path.c_str(), &st) == 0 &&
         st.st_dev == file.st_dev && st.st_ino == file.st_ino;
}

}  // namespace

absl::StatusOr<PeerCredentials> ReadPeerCredentials(int fd) {
  struct ucred cred;
  socklen_t len = sizeof(cred);
  if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("SO_PEERCRED: ", strerror(errno)));
  }
  if (len != sizeof(cred)) return absl::InvalidArgumentError("SO_PEERCRED: short answer");
  if (cred.pid <= 0) {
    return absl::FailedPreconditionError(
        "the socket has no peer process visible in this pid namespace");
  }
  return PeerCredentials{cred.pid, cred.uid, cred.gid};
}

WorkloadAttestor::WorkloadAttestor(AttestorOptions options)
    : options_([&] {
        options.digest_cache_entries = std::max<size_t>(options.digest_cache_entries, 1);
        return std::move(options);
      }()) {}

absl::StatusOr<std::vector<std::string>> WorkloadAttestor::Attest(const PeerCredentials& peer) {
  const pid_t pid = peer.pid;
  MESHID_ASSIGN_OR_RETURN(Fd dir, OpenProcDir(options_.proc_root, pid));
  MESHID_ASSIGN_OR_RETURN(std::string status_text,
                          ReadProcFile(dir, pid, "status", kMaxStatusBytes));
  absl::StatusOr<ProcStatus> status = ParseStatus(status_text);
  if (!status.ok()) return base::Annotate(status.status(), absl::StrCat("process ", pid));
  if (status->euid != peer.uid || status->egid != peer.gid) {
    return absl::PermissionDeniedError(absl::StrCat("process ", pid, " connected as uid ", peer.uid,
                                                    " gid ", peer.gid, " but now runs as uid ",
                                                    status->euid, " gid ", status->egid));
  }

  std::vector<std::string> selectors;
  selectors.push_back(absl::StrCat("unix:uid:", peer.uid));
  if (std::optional<std::string> name = UserName(peer.uid)) {
    selectors.push_back(absl::StrCat("unix:user:", *name));
  }
  selectors.push_back(absl::StrCat("unix:gid:", peer.gid));
  if (std::optional<std::string> name = GroupName(peer.gid)) {
    selectors.push_back(absl::StrCat("unix:group:", *name));
  }
  for (gid_t gid : status->groups) {
    selectors.push_back(absl::StrCat("unix:supplementary_gid:", gid));
    if (std::optional<std::string> name = GroupName(gid)) {
      selectors.push_back(absl::StrCat("unix:supplementary_group:", *name));
    }
  }

  // The link and the open refer to the same file: the process's mm->exe_file.
  MESHID_ASSIGN_OR_RETURN(std::string exe_path, ReadExeLink(dir, pid));
  Fd exe(openat(dir.get(), "exe", O_RDONLY | O_CLOEXEC));
  if (exe.get() < 0) return ProcError(errno, pid, "open exe");
  struct stat exe_st;
  if (fstat(exe.get(), &exe_st) != 0) return ProcError(errno, pid, "stat exe");

  if (PathNamesFile(exe_path, exe_st)) {
    selectors.push_back(absl::StrCat("unix:path:", exe_path));
  } else {
    // Info, not warning: every containerized workload takes this branch.
    Log().info(
        "process {}: no unix:path selector: {} is not the file it runs here (deleted, replaced "
        "or in another mount namespace)",
        pid, exe_path);
  }
  MESHID_RETURN_IF_ERROR(AddDigestSelector(exe.get(), pid, selectors));

  std::sort(selectors.begin(), selectors.end());
  selectors.erase(std::unique(selectors.begin(), selectors.end()), selectors.end());
  return selectors;
}

absl::Status WorkloadAttestor::AddDigestSelector(int exe_fd, pid_t pid,
                                                 std::vector<std::string>& selectors) {
  if (options_.max_binary_bytes == 0) return absl::OkStatus();
  auto key_of = [exe_fd, pid]() -> absl::StatusOr<FileKey> {
    struct stat st;
    if (fstat(exe_fd, &st) != 0) return ProcError(errno, pid, "stat exe");
    return FileKey{st.st_dev,          st.st_ino,         st.st_size,        st.st_mtim.tv_sec,
                   st.st_mtim.tv_nsec, st.st_ctim.tv_sec, st.st_ctim.tv_nsec};
  };
  MESHID_ASSIGN_OR_RETURN(FileKey key, key_of());
  if (static_cast<uint64_t>(key.size) > options_.max_binary_bytes) {
    Log().warn("process {}: no unix:sha256 selector: its binary is {} bytes, over the limit of {}",
               pid, key.size, options_.max_binary_bytes);
    return absl::OkStatus();
  }
  std::string digest;
  if (LookUp(key, digest)) {
    selectors.push_back(absl::StrCat("unix:sha256:", digest));
    return absl::OkStatus();
  }
  files_hashed_.fetch_add(1, std::memory_order_relaxed);
  absl::StatusOr<std::string> computed = pki::Sha256HexOfFile(exe_fd, options_.max_binary_bytes);
  if (computed.status().code() == absl::StatusCode::kResourceExhausted) {
    Log().warn("process {}: no unix:sha256 selector: its binary grew over the limit of {} bytes",
               pid, options_.max_binary_bytes);
    return absl::OkStatus();
  }
  if (!computed.ok()) {
    return base::Annotate(computed.status(), absl::StrCat("process ", pid, ": hashing exe"));
  }
  // Writing a running binary fails with ETXTBSY, but a file that changed while it was read
  // has no single digest: leave it out rather than describe a file that never existed.
  MESHID_ASSIGN_OR_RETURN(FileKey after, key_of());
  if (after != key) {
    Log().warn("process {}: no unix:sha256 selector: its binary changed while being hashed", pid);
    return absl::OkStatus();
  }
  Remember(key, *computed);
  selectors.push_back(absl::StrCat("unix:sha256:", *computed));
  return absl::OkStatus();
}

bool WorkloadAttestor::LookUp(const FileKey& key, std::string& digest) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = index_.find(key);
  if (it == index_.end()) return false;
  lru_.splice(lru_.begin(), lru_, it->second);
  digest = it->second->second;
  return true;
}

void WorkloadAttestor::Remember(const FileKey& key, const std::string& digest) {
  std::lock_guard<std::mutex> lock(mu_);
  if (auto it = index_.find(key); it != index_.end()) {
    // Another thread hashed the same file meanwhile.
    lru_.splice(lru_.begin(), lru_, it->second);
    return;
  }
  lru_.emplace_front(key, digest);
  index_.emplace(key, lru_.begin());
  if (lru_.size() > options_.digest_cache_entries) {
    index_.erase(lru_.back().first);
    lru_.pop_back();
  }
}

absl::StatusOr<uint64_t> ProcessStartTime(const std::string& proc_root, pid_t pid) {
  MESHID_ASSIGN_OR_RETURN(Fd dir, OpenProcDir(proc_root, pid));
  MESHID_ASSIGN_OR_RETURN(std::string stat, ReadProcFile(dir, pid, "stat", kMaxStatBytes));
  absl::StatusOr<uint64_t> start_time = ParseStartTime(stat);
  if (!start_time.ok()) {
    return base::Annotate(start_time.status(), absl::StrCat("process ", pid));
  }
  return start_time;
}

bool SelectorsMatch(absl::Span<const std::string> entry_selectors,
                    absl::Span<const std::string> workload_selectors) {
  if (entry_selectors.empty()) return false;
  return std::all_of(entry_selectors.begin(), entry_selectors.end(), [&](const std::string& s) {
    return std::binary_search(workload_selectors.begin(), workload_selectors.end(), s);
  });
}

}  // namespace meshid::agent
