#include "workload_attestor.h"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/base/files.h"
#include "meshid/pki/crypto.h"
#include "meshid/testing/temp_dir.h"

namespace meshid::agent {
namespace {

using ::testing::AllOf;
using ::testing::Contains;
using ::testing::Each;
using ::testing::Not;
using ::testing::StartsWith;

constexpr size_t kLargeFile = size_t{1} << 30;

std::string ReadLink(const std::string& path) {
  std::vector<char> buf(8192);
  ssize_t n = readlink(path.c_str(), buf.data(), buf.size());
  return n < 0 ? std::string() : std::string(buf.data(), static_cast<size_t>(n));
}

// DigestOfFile hashes the file read whole, independently of Sha256HexOfFile.
std::string DigestOfFile(const std::string& path) {
  absl::StatusOr<std::string> data = base::ReadFile(path, kLargeFile);
  return data.ok() ? pki::Sha256Hex(*data) : "unreadable: " + data.status().ToString();
}

PeerCredentials Self() { return {getpid(), getuid(), getgid()}; }

// AttestOk returns the selectors of `peer`, or none after recording a test failure.
std::vector<std::string> AttestOk(WorkloadAttestor& attestor, const PeerCredentials& peer) {
  absl::StatusOr<std::vector<std::string>> selectors = attestor.Attest(peer);
  if (!selectors.ok()) {
    ADD_FAILURE() << "Attest(" << peer.pid << "): " << selectors.status();
    return {};
  }
  return *std::move(selectors);
}

bool IsSortedAndUnique(const std::vector<std::string>& v) {
  return std::is_sorted(v.begin(), v.end()) && std::adjacent_find(v.begin(), v.end()) == v.end();
}

TEST(WorkloadAttestorTest, AttestsItself) {
  WorkloadAttestor attestor;
  absl::StatusOr<std::vector<std::string>> selectors = attestor.Attest(Self());
  ASSERT_TRUE(selectors.ok()) << selectors.status();
  EXPECT_TRUE(IsSortedAndUnique(*selectors)) << absl::StrJoin(*selectors, " ");

  EXPECT_THAT(*selectors, Contains(absl::StrCat("unix:uid:", getuid())));
  EXPECT_THAT(*selectors, Contains(absl::StrCat("unix:gid:", getgid())));
  struct passwd* pw = getpwuid(getuid());
  ASSERT_NE(pw, nullptr);
  EXPECT_THAT(*selectors, Contains(absl::StrCat("unix:user:", pw->pw_name)));
  if (struct group* gr = getgrgid(getgid())) {
    EXPECT_THAT(*selectors, Contains(absl::StrCat("unix:group:", gr->gr_name)));
  }
  std::vector<gid_t> groups(static_cast<size_t>(getgroups(0, nullptr)));
  ASSERT_EQ(getgroups(static_cast<int>(groups.size()), groups.data()),
            static_cast<int>(groups.size()));
  for (gid_t gid : groups) {
    EXPECT_THAT(*selectors, Contains(absl::StrCat("unix:supplementary_gid:", gid)));
  }

  std::string exe = ReadLink("/proc/self/exe");
  ASSERT_FALSE(exe.empty());
  EXPECT_THAT(*selectors, Contains("unix:path:" + exe));
  EXPECT_THAT(*selectors, Contains("unix:sha256:" + DigestOfFile(exe)));
  EXPECT_EQ(attestor.files_hashed(), 1U);
}

TEST(WorkloadAttestorTest, SecondAttestUsesTheCachedDigest) {
  WorkloadAttestor attestor;
  absl::StatusOr<std::vector<std::string>> first = attestor.Attest(Self());
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<std::vector<std::string>> second = attestor.Attest(Self());
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(attestor.files_hashed(), 1U);
}

TEST(WorkloadAttestorTest, BinaryOverTheLimitHasNoDigest) {
  for (size_t limit : {size_t{0}, size_t{1}}) {
    WorkloadAttestor attestor({.max_binary_bytes = limit});
    absl::StatusOr<std::vector<std::string>> selectors = attestor.Attest(Self());
    ASSERT_TRUE(selectors.ok()) << selectors.status();
    EXPECT_THAT(*selectors, Each(Not(StartsWith("unix:sha256:"))));
    EXPECT_THAT(*selectors, Contains("unix:path:" + ReadLink("/proc/self/exe")));
    EXPECT_THAT(*selectors, Contains(absl::StrCat("unix:uid:", getuid())));
    EXPECT_EQ(attestor.files_hashed(), 0U);
  }
}

TEST(WorkloadAttestorTest, ConcurrentAttestsAgree) {
  WorkloadAttestor attestor;
  absl::StatusOr<std::vector<std::string>> expected = attestor.Attest(Self());
  ASSERT_TRUE(expected.ok()) << expected.status();
  std::vector<std::thread> threads;
  threads.reserve(8);
  std::atomic<int> mismatches{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        absl::StatusOr<std::vector<std::string>> got = attestor.Attest(Self());
        if (!got.ok() || *got != *expected) ++mismatches;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0);
  EXPECT_EQ(attestor.files_hashed(), 1U);
}

TEST(WorkloadAttestorTest, RejectsPidsThatCannotBeAttested) {
  WorkloadAttestor attestor;
  EXPECT_EQ(attestor.Attest({0, getuid(), getgid()}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(attestor.Attest({-5, getuid(), getgid()}).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Every pid is below pid_max (procfs files have no size, so base::ReadFile reads nothing).
  pid_t unused = 0;
  std::ifstream("/proc/sys/kernel/pid_max") >> unused;
  ASSERT_GT(unused, 1);
  absl::StatusOr<std::vector<std::string>> gone = attestor.Attest({unused, getuid(), getgid()});
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound) << gone.status();
  EXPECT_EQ(ProcessStartTime("/proc", unused).status().code(), absl::StatusCode::kNotFound);
}

TEST(WorkloadAttestorTest, AnotherUsersProcessNeedsPrivilege) {
  struct stat init;
  ASSERT_EQ(stat("/proc/1", &init), 0);
  if (geteuid() == 0 || init.st_uid == geteuid()) {
    GTEST_SKIP() << "needs to run unprivileged, as a user other than pid 1's";
  }
  WorkloadAttestor attestor;
  absl::StatusOr<std::vector<std::string>> denied = attestor.Attest({1, init.st_uid, init.st_gid});
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied) << denied.status();
}

// Child runs a copy of sleep(1), so that the test can delete its binary.
class Child {
 public:
  // Start returns once the child has exec'd `binary`: the close-on-exec pipe reaches EOF.
  static std::optional<Child> Start(const std::string& binary) {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
    pid_t pid = fork();
    if (pid == 0) {
      close(fds[0]);
      execl(binary.c_str(), "sleep", "600", static_cast<char*>(nullptr));
      _exit(127);
    }
    close(fds[1]);
    char c;
    while (read(fds[0], &c, 1) < 0 && errno == EINTR) {
    }
    close(fds[0]);
    if (pid < 0) return std::nullopt;
    return Child(pid);
  }
  Child(Child&& other) noexcept : pid_(std::exchange(other.pid_, 0)) {}
  ~Child() { Reap(); }

  pid_t pid() const { return pid_; }
  void Reap() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = 0;
  }

 private:
  explicit Child(pid_t pid) : pid_(pid) {}
  pid_t pid_;
};

TEST(WorkloadAttestorTest, FollowsAChildThroughDeletionAndExit) {
  std::string sleep_path = base::IsRegularFile("/usr/bin/sleep") ? "/usr/bin/sleep" : "/bin/sleep";
  testing::TempDir dir;
  std::string copy = dir.Path("sleep");
  std::filesystem::copy_file(sleep_path, copy);
  std::filesystem::permissions(copy, std::filesystem::perms::owner_all);
  std::string digest = DigestOfFile(copy);

  std::optional<Child> child = Child::Start(copy);
  ASSERT_TRUE(child.has_value());
  PeerCredentials peer{child->pid(), getuid(), getgid()};
  WorkloadAttestor attestor;
  absl::StatusOr<std::vector<std::string>> running = attestor.Attest(peer);
  ASSERT_TRUE(running.ok()) << running.status();
  EXPECT_THAT(*running, AllOf(Contains("unix:path:" + copy), Contains("unix:sha256:" + digest)));
  absl::StatusOr<uint64_t> started = ProcessStartTime("/proc", child->pid());
  ASSERT_TRUE(started.ok()) << started.status();

  // Deleted: the path names no file any more, but the digest is still of what runs.
  ASSERT_EQ(unlink(copy.c_str()), 0);
  absl::StatusOr<std::vector<std::string>> deleted = attestor.Attest(peer);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_THAT(*deleted, Each(Not(StartsWith("unix:path:"))));
  EXPECT_THAT(*deleted, Contains("unix:sha256:" + digest));
  EXPECT_EQ(ProcessStartTime("/proc", child->pid()).value_or(0), *started);

  // Reaped: nothing left to attest.
  child->Reap();
  absl::StatusOr<std::vector<std::string>> gone = attestor.Attest(peer);
  EXPECT_EQ(gone.status().code(), absl::StatusCode::kNotFound) << gone.status();
  EXPECT_EQ(ProcessStartTime("/proc", peer.pid).status().code(), absl::StatusCode::kNotFound);
}

// FakeProc is a directory laid out like /proc for made-up processes.
class FakeProc {
 public:
  const std::string& root() const { return dir_.path(); }
  std::string Path(const std::string& name) const { return dir_.Path(name); }

  // Add creates <root>/<pid>/ with `status` and an exe link to `exe` (none when empty).
  void Add(pid_t pid, const std::string& status, const std::string& exe) {
    std::string pid_dir = dir_.Path(std::to_string(pid));
    std::filesystem::create_directories(pid_dir);
    Write(pid_dir + "/status", status);
    if (!exe.empty()) std::filesystem::create_symlink(exe, pid_dir + "/exe");
  }

  static void Write(const std::string& path, const std::string& content) {
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  }

 private:
  testing::TempDir dir_;
};

std::string Status(uid_t uid, gid_t gid, const std::string& groups) {
  return absl::StrCat("Name:\tfake\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t", uid, "\t", uid,
                      "\t", uid, "\t", uid, "\nGid:\t", gid, "\t", gid, "\t", gid, "\t", gid,
                      "\nFDSize:\t64\nGroups:\t", groups, "\nNStgid:\t1\n");
}

TEST(WorkloadAttestorTest, ReadsAFakeProcRoot) {
  FakeProc proc;
  std::string binary = proc.Path("app");
  FakeProc::Write(binary, "fake binary");
  // 3999999999 is a gid no system names.
  proc.Add(42, Status(getuid(), getgid(), "0 3999999999 "), binary);
  WorkloadAttestor attestor({.proc_root = proc.root()});
  absl::StatusOr<std::vector<std::string>> selectors = attestor.Attest({42, getuid(), getgid()});
  ASSERT_TRUE(selectors.ok()) << selectors.status();
  EXPECT_TRUE(IsSortedAndUnique(*selectors));
  EXPECT_THAT(*selectors,
              AllOf(Contains("unix:supplementary_gid:0"),
                    Contains("unix:supplementary_gid:3999999999"), Contains("unix:path:" + binary),
                    Contains("unix:sha256:" + pki::Sha256Hex("fake binary"))));
  if (struct group* gr = getgrgid(0)) {
    EXPECT_THAT(*selectors, Contains(absl::StrCat("unix:supplementary_group:", gr->gr_name)));
  }
  size_t group_names = std::count_if(selectors->begin(), selectors->end(), [](const auto& s) {
    return absl::StartsWith(s, "unix:supplementary_group:");
  });
  EXPECT_LE(group_names, 1U);  // the unnamed gid yields no name selector
}

TEST(WorkloadAttestorTest, RefusesCredentialsThatChangedSinceConnect) {
  FakeProc proc;
  std::string binary = proc.Path("app");
  FakeProc::Write(binary, "x");
  proc.Add(42, Status(getuid() + 1, getgid(), ""), binary);
  proc.Add(43, Status(getuid(), getgid() + 1, ""), binary);
  WorkloadAttestor attestor({.proc_root = proc.root()});
  EXPECT_EQ(attestor.Attest({42, getuid(), getgid()}).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(attestor.Attest({43, getuid(), getgid()}).status().code(),
            absl::StatusCode::kPermissionDenied);
}

TEST(WorkloadAttestorTest, RejectsBadProcFiles) {
  FakeProc proc;
  std::string binary = proc.Path("app");
  FakeProc::Write(binary, "x");
  proc.Add(1, "", binary);
  proc.Add(2, "Uid:\t0\nGid:\t0\t0\nGroups:\n", binary);
  proc.Add(3, "Uid:\tx\tx\nGid:\t0\t0\nGroups:\n", binary);
  proc.Add(4, "Uid:\t0\t0\nGid:\t0\t0\nGroups:\t1 two\n", binary);
  proc.Add(5, "Uid:\t0\t0\nGid:\t0\t0\n", binary);
  proc.Add(6, Status(getuid(), getgid(), ""), "");                 // no exe: a kernel thread
  proc.Add(7, Status(getuid(), getgid(), ""), proc.Path("gone"));  // dangling exe
  WorkloadAttestor attestor({.proc_root = proc.root()});
  for (pid_t pid : {1, 2, 3, 4, 5}) {
    absl::StatusOr<std::vector<std::string>> bad = attestor.Attest({pid, 0, 0});
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << pid << bad.status();
  }
  for (pid_t pid : {6, 7}) {
    absl::StatusOr<std::vector<std::string>> bad = attestor.Attest({pid, getuid(), getgid()});
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kNotFound) << pid << bad.status();
  }
}

TEST(WorkloadAttestorTest, RehashesABinaryRewrittenInPlace) {
  FakeProc proc;
  std::string binary = proc.Path("app");
  FakeProc::Write(binary, "version 1");
  proc.Add(42, Status(getuid(), getgid(), ""), binary);
  WorkloadAttestor attestor({.proc_root = proc.root()});
  PeerCredentials peer{42, getuid(), getgid()};
  ASSERT_THAT(AttestOk(attestor, peer), Contains("unix:sha256:" + pki::Sha256Hex("version 1")));

  // Same size, mtime set back to what it was: only the ctime tells the versions apart. It
  // moves at clock-tick granularity, so rewrite until it has moved.
  struct stat before;
  ASSERT_EQ(stat(binary.c_str(), &before), 0);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  struct stat after;
  do {
    FakeProc::Write(binary, "version 2");
    struct timespec times[2] = {before.st_atim, before.st_mtim};
    ASSERT_EQ(utimensat(AT_FDCWD, binary.c_str(), times, 0), 0);
    ASSERT_EQ(stat(binary.c_str(), &after), 0);
  } while (after.st_ctim.tv_sec == before.st_ctim.tv_sec &&
           after.st_ctim.tv_nsec == before.st_ctim.tv_nsec &&
           std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  ASSERT_EQ(after.st_size, before.st_size);
  EXPECT_THAT(AttestOk(attestor, peer), Contains("unix:sha256:" + pki::Sha256Hex("version 2")));
  EXPECT_EQ(attestor.files_hashed(), 2U);
}

TEST(WorkloadAttestorTest, DigestCacheEvictsTheLeastRecentlyUsed) {
  FakeProc proc;
  for (pid_t pid : {1, 2, 3}) {
    std::string binary = proc.Path(absl::StrCat("app", pid));
    FakeProc::Write(binary, absl::StrCat("binary ", pid));
    proc.Add(pid, Status(getuid(), getgid(), ""), binary);
  }
  WorkloadAttestor attestor({.proc_root = proc.root(), .digest_cache_entries = 2});
  auto attest = [&](pid_t pid) {
    EXPECT_THAT(AttestOk(attestor, {pid, getuid(), getgid()}),
                Contains("unix:sha256:" + pki::Sha256Hex(absl::StrCat("binary ", pid))));
    return attestor.files_hashed();
  };
  EXPECT_EQ(attest(1), 1U);
  EXPECT_EQ(attest(2), 2U);
  EXPECT_EQ(attest(1), 2U);  // hit: 1 is now the most recent
  EXPECT_EQ(attest(3), 3U);  // evicts 2, the least recently used
  EXPECT_EQ(attest(1), 3U);
  EXPECT_EQ(attest(2), 4U);
}

// FakeStat returns a stat line of 52 fields with `comm` and field 22 set to `start`.
std::string FakeStat(pid_t pid, const std::string& comm, const std::string& start) {
  std::string line = absl::StrCat(pid, " (", comm, ") S");
  for (int field = 4; field <= 52; ++field) {
    absl::StrAppend(&line, " ", field == 22 ? start : std::to_string(field));
  }
  return line + "\n";
}

TEST(ProcessStartTimeTest, ParsesFromTheLastParenthesis) {
  FakeProc proc;
  auto add = [&](pid_t pid, const std::string& stat) {
    std::filesystem::create_directories(proc.Path(std::to_string(pid)));
    FakeProc::Write(proc.Path(absl::StrCat(pid, "/stat")), stat);
  };
  add(77, FakeStat(77, ") (evil 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20) S\n x",
                   "1234567890123"));
  add(78, FakeStat(78, "plain", "18446744073709551615"));
  add(1, "");
  add(2, "2 (no closing parenthesis S 1 2 3");
  add(3, "3 (short) S 1 2 3\n");
  add(4, FakeStat(4, "nan", "12x"));
  add(5, FakeStat(5, "neg", "-1"));
  add(6, FakeStat(6, "big", "18446744073709551616"));
  std::string no_open = FakeStat(7, "x", "1");
  no_open[no_open.find('(')] = ' ';
  add(7, no_open);

  absl::StatusOr<uint64_t> evil = ProcessStartTime(proc.root(), 77);
  ASSERT_TRUE(evil.ok()) << evil.status();
  EXPECT_EQ(*evil, 1234567890123U);
  EXPECT_EQ(ProcessStartTime(proc.root(), 78).value_or(0), UINT64_MAX);
  for (pid_t pid : {1, 2, 3, 4, 5, 6, 7}) {
    absl::StatusOr<uint64_t> bad = ProcessStartTime(proc.root(), pid);
    EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << pid << bad.status();
  }
  EXPECT_EQ(ProcessStartTime(proc.root(), 79).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ProcessStartTime(proc.root(), 0).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ProcessStartTimeTest, ReadsTheRealProc) {
  absl::StatusOr<uint64_t> self = ProcessStartTime("/proc", getpid());
  ASSERT_TRUE(self.ok()) << self.status();
  EXPECT_EQ(ProcessStartTime("/proc", getpid()).value_or(0), *self);
  // The agent's pid-reuse guard relies on a parent never starting after its child.
  absl::StatusOr<uint64_t> parent = ProcessStartTime("/proc", getppid());
  ASSERT_TRUE(parent.ok()) << parent.status();
  EXPECT_LE(*parent, *self);
}

TEST(SelectorsMatchTest, EveryEntrySelectorMustBePresent) {
  std::vector<std::string> workload = {"unix:gid:0", "unix:path:/bin/app", "unix:uid:0"};
  using V = std::vector<std::string>;
  EXPECT_TRUE(SelectorsMatch(V{"unix:uid:0"}, workload));
  EXPECT_TRUE(SelectorsMatch(V{"unix:uid:0", "unix:path:/bin/app"}, workload));  // any order
  EXPECT_TRUE(SelectorsMatch(V{"unix:uid:0", "unix:uid:0"}, workload));          // duplicates
  EXPECT_TRUE(SelectorsMatch(workload, workload));
  EXPECT_FALSE(SelectorsMatch(V{"unix:uid:0", "unix:uid:1"}, workload));
  EXPECT_FALSE(SelectorsMatch(V{"unix:uid:"}, workload));
  EXPECT_FALSE(SelectorsMatch(V{"unix:path:/bin/app", "unix:sha256:00"}, workload));
  EXPECT_FALSE(SelectorsMatch(V{"unix:uid:0"}, V{}));
  // An entry without selectors matches nothing, not everything.
  EXPECT_FALSE(SelectorsMatch(V{}, workload));
  EXPECT_FALSE(SelectorsMatch(V{}, V{}));
}

TEST(ReadPeerCredentialsTest, ReportsTheConnectingProcess) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  absl::StatusOr<PeerCredentials> peer = ReadPeerCredentials(fds[0]);
  ASSERT_TRUE(peer.ok()) << peer.status();
  EXPECT_EQ(peer->pid, getpid());
  EXPECT_EQ(peer->uid, getuid());
  EXPECT_EQ(peer->gid, getgid());
  close(fds[0]);
  close(fds[1]);
}

TEST(ReadPeerCredentialsTest, RejectsWhatHasNoPeer) {
  int unconnected = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(unconnected, 0);
  EXPECT_EQ(ReadPeerCredentials(unconnected).status().code(),
            absl::StatusCode::kFailedPrecondition);
  close(unconnected);
  int pipe_fds[2];
  ASSERT_EQ(pipe2(pipe_fds, O_CLOEXEC), 0);
  EXPECT_EQ(ReadPeerCredentials(pipe_fds[0]).status().code(), absl::StatusCode::kInvalidArgument);
  close(pipe_fds[0]);
  close(pipe_fds[1]);
  EXPECT_EQ(ReadPeerCredentials(-1).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace meshid::agent
