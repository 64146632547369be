#pragma once

// Private to the agent module: the unix workload attestor, which turns the peer of a
// Workload API connection into selectors (SPIRE's unix WorkloadAttestor, on Linux).

#include <atomic>
#include <compare>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <sys/types.h>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace meshid::agent {

// PeerCredentials are the credentials the kernel recorded for the process that called
// connect() on a unix socket (SO_PEERCRED): its pid and its effective uid and gid at that
// moment, mapped into the agent's namespaces.
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

// ReadPeerCredentials returns the SO_PEERCRED credentials of the socket `fd`.
// InvalidArgument when `fd` is not a socket; FailedPrecondition when the kernel reports no
// peer pid (pid 0): a socket that is not a connected unix socket, or a peer outside the
// agent's pid namespace, which cannot be attested.
absl::StatusOr<PeerCredentials> ReadPeerCredentials(int fd);

// kDefaultMaxBinaryBytes is the default AttestorOptions::max_binary_bytes. The biggest
// binaries that run as workloads (statically linked Go programs, Envoy, browsers) stay
// under ~200 MiB; hashing 256 MiB takes about a second at worst, once per binary thanks to
// the cache. It bounds how long one caller can hold a handler with a huge file.
inline constexpr size_t kDefaultMaxBinaryBytes = size_t{256} * 1024 * 1024;

// kDefaultDigestCacheEntries bounds the digest cache: one entry per distinct binary, far
// more than a node runs, while a caller that keeps making new binaries costs a few hundred
// KiB at most.
inline constexpr size_t kDefaultDigestCacheEntries = 1024;

struct AttestorOptions {
  // Where procfs is mounted: "/proc", or the host's /proc mounted elsewhere (tests use a
  // fake tree).
  std::string proc_root = "/proc";
  // The largest binary whose SHA-256 becomes a unix:sha256 selector (SPIRE's
  // workload_size_limit, whose default is no limit). A bigger binary gets no sha256
  // selector and a warning, not a failed attestation. 0 disables the sha256 selector.
  size_t max_binary_bytes = kDefaultMaxBinaryBytes;
  // Digests remembered, least recently used evicted first; at least 1.
  size_t digest_cache_entries = kDefaultDigestCacheEntries;
};

// WorkloadAttestor computes the selectors of local processes (SPIRE's unix workload
// attestor). It is thread-safe: one instance serves every Workload API handler. Binary
// digests are cached by file version (device, inode, size, mtime, ctime), so a binary is
// hashed once however many of its processes connect.
class WorkloadAttestor {
 public:
  explicit WorkloadAttestor(AttestorOptions options = {});

  WorkloadAttestor(const WorkloadAttestor&) = delete;
  WorkloadAttestor& operator=(const WorkloadAttestor&) = delete;

  // Attest returns the selectors of the process `peer`, sorted and without duplicates, in
  // SPIRE's vocabulary:
  //   unix:uid:N, unix:gid:N           the peer credentials' effective uid and gid
  //   unix:user:NAME, unix:group:NAME  their names, when getpwuid_r / getgrgid_r know them
  //   unix:supplementary_gid:N, unix:supplementary_group:NAME
  //                                    the "Groups:" of /proc/<pid>/status, read at attest
  //                                    time; kept apart from unix:gid so that an entry
  //                                    naming a gid keeps meaning the primary group
  //   unix:path:/abs/exe               readlink of /proc/<pid>/exe, only when that path,
  //                                    resolved by the agent, is the very file (device and
  //                                    inode) the process runs. So a deleted or replaced
  //                                    binary (" (deleted)"), or a path that exists only in
  //                                    another mount namespace (a container, or a user
  //                                    namespace mounting its own file over a trusted
  //                                    path), yields no path selector
  //   unix:sha256:HEX                  SHA-256 of the file the process runs, read through
  //                                    /proc/<pid>/exe (so right for a deleted binary too);
  //                                    absent, with a warning, when over max_binary_bytes
  //
  // Every /proc file is read through one open /proc/<pid> directory: if the process dies
  // and its pid is reused meanwhile, the reads fail instead of describing another process.
  // Attest fails when the process's current effective uid or gid differs from `peer`: its
  // credentials changed since connect() (a setuid exec, say), and selectors must describe
  // one state of one process. The caller still compares ProcessStartTime before and after,
  // since the pid may have been reused before Attest opened the directory.
  //
  // Errors: InvalidArgument for a pid <= 0 or a /proc file that does not parse; NotFound
  // when the process is gone (or is a zombie or kernel thread, which have no executable);
  // PermissionDenied when the agent may not inspect it (another user's /proc/<pid>/exe
  // needs root or CAP_SYS_PTRACE) or its credentials changed; Unavailable for other I/O
  // errors.
  absl::StatusOr<std::vector<std::string>> Attest(const PeerCredentials& peer);

  // files_hashed counts the binaries hashed so far (cache misses), for tests and metrics.
  uint64_t files_hashed() const { return files_hashed_.load(std::memory_order_relaxed); }

 private:
  // FileKey identifies one version of a file. ctime is included because, unlike mtime,
  // it cannot be set back by the file's owner after rewriting the file.
  struct FileKey {
    dev_t dev;
    ino_t ino;
    int64_t size;
    int64_t mtime_sec, mtime_nsec, ctime_sec, ctime_nsec;

    friend auto operator<=>(const FileKey&, const FileKey&) = default;
  };
  using LruList = std::list<std::pair<FileKey, std::string>>;  // most recent first

  // AddDigestSelector appends the unix:sha256 selector of the binary open as `exe_fd`, if it
  // is small enough; it fails only for an unreadable binary.
  absl::Status AddDigestSelector(int exe_fd, pid_t pid, std::vector<std::string>& selectors);
  bool LookUp(const FileKey& key, std::string& digest);
  void Remember(const FileKey& key, const std::string& digest);

  const AttestorOptions options_;
  std::atomic<uint64_t> files_hashed_{0};
  std::mutex mu_;  // guards lru_ and index_
  LruList lru_;
  std::map<FileKey, LruList::iterator> index_;
};

// ProcessStartTime returns the start time of process `pid`, in clock ticks after boot:
// field 22 of <proc_root>/<pid>/stat. The command name (field 2) may hold spaces and
// parentheses, so fields are counted from the last ')'. NotFound when the process is gone,
// InvalidArgument when the file does not parse.
absl::StatusOr<uint64_t> ProcessStartTime(const std::string& proc_root, pid_t pid);

// SelectorsMatch reports whether every selector of `entry_selectors` (any order,
// duplicates allowed) is among `workload_selectors`, which must be sorted as Attest returns
// them; unsorted workload selectors can only make it answer false. An entry with no
// selectors matches nothing: a registration entry missing its selectors must not hand its
// identity to every workload on the node.
bool SelectorsMatch(absl::Span<const std::string> entry_selectors,
                    absl::Span<const std::string> workload_selectors);

}  // namespace meshid::agent
