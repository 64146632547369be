// agent_scale_client: drives one `meshid agent run` at scale for bench/agent_scale/run.sh.
//
//  1. forks --streams helper processes, each under its own uid, that connect to the agent's
//     Workload API socket, pass the connected fd back and stay alive (the agent attests the
//     process that connected, so it must not exit);
//  2. registers --entries entries spread over those uids (entries / streams per uid);
//  3. waits until the agent holds an SVID for every entry, timing it and the agent's CPU;
//  4. opens FetchX509SVID on every fd, measures the agent's memory and idle CPU;
//  5. for each --new-root, a second apart: adds it to the bundle and times until every stream
//     has it (one push each, with the agent's write time and this client's CPU).
// Prints one JSON object. Needs root (setuid for the helpers).

#include <algorithm>
#include <atomic>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include <grpcpp/create_channel_posix.h>
#include <grpcpp/grpcpp.h>
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "meshid/base/files.h"
#include "meshid/ca/v1/admin.grpc.pb.h"
#include "spiffe/workload/workload.grpc.pb.h"

namespace {

struct Options {
  std::string socket;
  std::string admin_socket;
  std::vector<std::string> new_roots;  // PEM files of the roots added, one push each
  std::string metrics_url_file;
  int agent_pid = 0;
  int entries = 10000;
  int streams = 1000;
  int first_uid = 20000;
  int ttl_seconds = 3600;
  int idle_seconds = 30;
  int reader_threads = 2;
};

// CpuSeconds returns utime + stime of `pid` in seconds.
double CpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(text.substr(text.rfind(')') + 2));
  std::string f;
  double utime = 0, stime = 0;
  for (int i = 3; fields >> f; ++i) {
    if (i == 14) utime = std::stod(f);
    if (i == 15) {
      stime = std::stod(f);
      break;
    }
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double RssMiB(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

// FdMessage is a one-byte message with room for one fd (SCM_RIGHTS).
struct FdMessage {
  FdMessage() {
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
  }
  char byte = 0;
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};
};

// Helper processes: one per uid, each connected to the agent, parked until killed.
std::vector<int> ForkConnectedHelpers(const Options& o, std::vector<pid_t>* pids) {
  std::vector<int> fds;
  for (int i = 0; i < o.streams; ++i) {
    int pair[2];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair);
    pid_t pid = fork();
    if (pid == 0) {
      const uid_t uid = static_cast<uid_t>(o.first_uid + i);
      if (setresgid(uid, uid, uid) != 0 || setresuid(uid, uid, uid) != 0) _exit(1);
      int fd = socket(AF_UNIX, SOCK_STREAM, 0);
      sockaddr_un addr{};
      addr.sun_family = AF_UNIX;
      std::strncpy(addr.sun_path, o.socket.c_str(), sizeof(addr.sun_path) - 1);
      if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) _exit(2);
      FdMessage out;
      cmsghdr* cmsg = CMSG_FIRSTHDR(&out.msg);
      cmsg->cmsg_level = SOL_SOCKET;
      cmsg->cmsg_type = SCM_RIGHTS;
      cmsg->cmsg_len = CMSG_LEN(sizeof(int));
      std::memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
      if (sendmsg(pair[1], &out.msg, 0) != 1) _exit(3);
      pause();
      _exit(0);
    }
    close(pair[1]);
    FdMessage in;
    if (recvmsg(pair[0], &in.msg, 0) != 1) {
      std::cerr << "helper " << i << " could not connect\n";
      exit(2);
    }
    int fd;
    std::memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&in.msg)), sizeof(int));
    close(pair[0]);
    fds.push_back(fd);
    pids->push_back(pid);
  }
  return fds;
}

void CreateEntries(const Options& o) {
  auto admin = meshid::ca::v1::Admin::NewStub(
      grpc::CreateChannel("unix:" + o.admin_socket, grpc::InsecureChannelCredentials()));
  std::atomic<int> next{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < 8; ++w) {
    workers.emplace_back([&] {
      for (int i = next++; i < o.entries; i = next++) {
        meshid::ca::v1::CreateEntryRequest request;
        request.set_spiffe_id(absl::StrCat("spiffe://example.org/ns/bench/sa/w", i));
        request.set_parent_id("spiffe://example.org/meshid/node/node1");
        request.add_selectors(absl::StrCat("unix:uid:", o.first_uid + i % o.streams));
        request.set_ttl_seconds(o.ttl_seconds);
        meshid::ca::v1::Entry entry;
        grpc::ClientContext context;
        grpc::Status s = admin->CreateEntry(&context, request, &entry);
        if (!s.ok()) {
          std::cerr << "CreateEntry: " << s.error_message() << "\n";
          exit(2);
        }
      }
    });
  }
  for (std::thread& t : workers) t.join();
}

// WarmHeap touches, then frees and keeps, enough of the calling thread's malloc arena for the
// responses it reads during a push (27.5 MB for 1,000 streams, shared by the readers; 128 MB
// per reader is a wide margin, since gRPC holds each byte more than once, not a measured
// minimum). The client stands in for 1,000 long-running workloads whose heaps are warm;
// without this it takes ~7,000 first-touch page faults per push, a fifth of its CPU on the
// agent's cores. main keeps freed memory in the process (M_TRIM_THRESHOLD) for this to last.
void WarmHeap() {
  constexpr size_t kChunk = 64 << 10;
  constexpr size_t kBytes = 128 << 20;
  std::vector<void*> chunks;
  for (size_t n = 0; n < kBytes; n += kChunk) {
    chunks.push_back(malloc(kChunk));
    memset(chunks.back(), 0, kChunk);
  }
  for (void* chunk : chunks) free(chunk);
}

// ProcessCpuSeconds is this process's CPU time, every thread included.
double ProcessCpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// PageFaults counts this process's minor page faults so far.
long PageFaults() {
  rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_minflt;
}

// MetricValue reads one sample of the agent's /metrics through curl.
double MetricValue(const std::string& url, const std::string& name) {
  FILE* p = popen(("curl -sf " + url).c_str(), "r");
  char line[4096];
  double value = -1;
  while (p != nullptr && fgets(line, sizeof(line), p) != nullptr) {
    std::string l(line);
    if (l.rfind(name + " ", 0) == 0) value = std::stod(l.substr(name.size() + 1));
  }
  if (p != nullptr) pclose(p);
  return value;
}

}  // namespace

int main(int argc, char** argv) {
  // As meshid's release build does: Debian's Abseil otherwise tracks lock-order cycles in
  // every gRPC lock, which would put the client's own overhead into the push time.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  // Freed memory stays in the process, and large blocks come from the heap (see WarmHeap).
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  Options o;
  CLI::App app("agent_scale_client: see bench/agent_scale/run.sh");
  app.add_option("--socket", o.socket)->required();
  app.add_option("--admin-socket", o.admin_socket)->required();
  app.add_option("--new-root", o.new_roots, "a root to add; each one is a push measured")
      ->required();
  app.add_option("--metrics-url", o.metrics_url_file)->required();
  app.add_option("--agent-pid", o.agent_pid)->required();
  app.add_option("--entries", o.entries);
  app.add_option("--streams", o.streams);
  app.add_option("--ttl-seconds", o.ttl_seconds);
  app.add_option("--idle-seconds", o.idle_seconds);
  app.add_option("--reader-threads", o.reader_threads)->check(CLI::Range(1, 64));
  CLI11_PARSE(app, argc, argv);
  signal(SIGPIPE, SIG_IGN);

  // Helpers first, before gRPC starts threads in this process.
  std::vector<pid_t> helpers;
  std::vector<int> fds = ForkConnectedHelpers(o, &helpers);
  const std::string& url = o.metrics_url_file;

  const double cpu0 = CpuSeconds(o.agent_pid);
  const absl::Time t0 = absl::Now();
  CreateEntries(o);
  const absl::Time created = absl::Now();
  while (MetricValue(url, "meshid_agent_svid_renewals_total{result=\"ok\"}") < o.entries) {
    absl::SleepFor(absl::Milliseconds(200));
  }
  const absl::Time issued = absl::Now();
  const double issue_cpu = CpuSeconds(o.agent_pid) - cpu0;

  // One stream per helper, read by --reader-threads threads, each with its own completion
  // queue (the machine's two cores by default: 1,000 reader threads would put the client's
  // own scheduling into the number, one thread its own CPU); each stream records when it
  // sees a bundle with one more root.
  std::atomic<int> first_seen{0};
  std::atomic<int> pushed_seen{0};
  std::atomic<int64_t> added_at_ns{0};
  std::mutex push_mu;
  std::vector<double> push_ms;  // this push's arrival times, under push_mu
  struct Reader {
    std::unique_ptr<SpiffeWorkloadAPI::Stub> stub;
    grpc::ClientContext context;
    std::unique_ptr<grpc::ClientAsyncReader<X509SVIDResponse>> reader;
    X509SVIDResponse response;
    size_t roots = 0;
    bool started = false;
  };
  std::vector<std::unique_ptr<Reader>> streams;
  // One completion queue per reader thread: a stream is read by the thread that owns its queue.
  std::vector<std::unique_ptr<grpc::CompletionQueue>> queues;
  for (int i = 0; i < o.reader_threads; ++i) {
    queues.push_back(std::make_unique<grpc::CompletionQueue>());
  }
  for (size_t i = 0; i < fds.size(); ++i) {
    auto r = std::make_unique<Reader>();
    r->stub = SpiffeWorkloadAPI::NewStub(grpc::CreateInsecureChannelFromFd("agent", fds[i]));
    r->context.AddMetadata("workload.spiffe.io", "true");
    r->reader = r->stub->AsyncFetchX509SVID(&r->context, X509SVIDRequest(),
                                            queues[i % queues.size()].get(), r.get());
    streams.push_back(std::move(r));
  }
  auto read = [&](grpc::CompletionQueue* cq) {
    WarmHeap();
    void* tag = nullptr;
    bool ok = false;
    while (cq->Next(&tag, &ok)) {
      auto* r = static_cast<Reader*>(tag);
      if (!ok) continue;  // the stream ended (cancelled at the end of the run)
      if (r->started) {
        const X509SVIDResponse& m = r->response;
        size_t now_roots = m.svids_size() > 0 ? m.svids(0).bundle().size() : 0;
        if (r->roots == 0) {
          r->roots = now_roots;
          ++first_seen;
        } else if (now_roots > r->roots && added_at_ns.load() != 0) {
          const double ms =
              static_cast<double>(absl::ToUnixNanos(absl::Now()) - added_at_ns.load()) / 1e6;
          std::lock_guard<std::mutex> lock(push_mu);
          push_ms.push_back(ms);
          r->roots = now_roots;
          ++pushed_seen;
        }
      }
      r->started = true;
      r->reader->Read(&r->response, r);
    }
  };
  // A stream's tag completes on one thread at a time: its next Read starts only after.
  std::vector<std::thread> readers;
  for (auto& cq : queues) readers.emplace_back(read, cq.get());
  while (first_seen < static_cast<int>(fds.size())) absl::SleepFor(absl::Milliseconds(50));
  const absl::Time streams_open = absl::Now();
  const double rss = RssMiB(o.agent_pid);

  const double idle0 = CpuSeconds(o.agent_pid);
  absl::SleepFor(absl::Seconds(o.idle_seconds));
  const double idle_cpu = CpuSeconds(o.agent_pid) - idle0;

  // Connected before the clock starts: the push is timed from the change, not from the
  // bench's own connection to the admin socket.
  std::shared_ptr<grpc::Channel> admin_channel =
      grpc::CreateChannel("unix:" + o.admin_socket, grpc::InsecureChannelCredentials());
  if (!admin_channel->WaitForConnected(std::chrono::system_clock::now() +
                                       std::chrono::seconds(10))) {
    std::cerr << "cannot connect to the admin socket " << o.admin_socket << "\n";
    return 2;
  }
  auto admin = meshid::ca::v1::Admin::NewStub(admin_channel);
  const std::string push_sum = "meshid_agent_workload_push_duration_seconds_sum";
  // Each push adds one root and waits until every stream holds it.
  std::ostringstream pushes;
  bool all_reached = true;
  for (const std::string& root : o.new_roots) {
    {
      std::lock_guard<std::mutex> lock(push_mu);
      push_ms.clear();
      pushed_seen = 0;
    }
    const double agent_push0 = MetricValue(url, push_sum);
    meshid::ca::v1::AddRootRequest add;
    add.set_certificate(*meshid::base::ReadFile(root));
    meshid::ca::v1::Bundle bundle;
    grpc::ClientContext add_context;
    const double client_cpu0 = ProcessCpuSeconds();
    const long faults0 = PageFaults();
    added_at_ns = absl::ToUnixNanos(absl::Now());
    grpc::Status added = admin->AddRoot(&add_context, add, &bundle);
    if (!added.ok()) {
      std::cerr << "AddRoot: " << added.error_message() << "\n";
      return 2;
    }
    absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (pushed_seen < static_cast<int>(fds.size()) && absl::Now() < deadline) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    // The readers' CPU while the change arrived, on the cores the agent uses too.
    const double client_push_cpu = ProcessCpuSeconds() - client_cpu0;
    const long client_faults = PageFaults() - faults0;
    // The agent's own time to write the change to every stream (its histogram's sum).
    const double agent_push = MetricValue(url, push_sum) - agent_push0;
    std::lock_guard<std::mutex> lock(push_mu);
    std::sort(push_ms.begin(), push_ms.end());
    auto pct = [&](double q) {
      return push_ms.empty() ? -1.0 : push_ms[static_cast<size_t>(q * (push_ms.size() - 1))];
    };
    pushes << (pushes.tellp() > 0 ? ", " : "") << "{\"streams_reached\": " << push_ms.size()
           << ", \"min_ms\": " << pct(0.0) << ", \"p50_ms\": " << pct(0.5)
           << ", \"p90_ms\": " << pct(0.9) << ", \"max_ms\": " << pct(1.0)
           << ", \"agent_write_ms\": " << 1e3 * agent_push
           << ", \"client_cpu_ms\": " << 1e3 * client_push_cpu
           << ", \"client_page_faults\": " << client_faults << "}";
    all_reached = all_reached && push_ms.size() == fds.size();
    absl::SleepFor(absl::Seconds(1));  // quiet again before the next change
  }
  for (auto& r : streams) r->context.TryCancel();
  // Cancelled reads complete with ok=false; then nothing more is pending.
  absl::SleepFor(absl::Milliseconds(500));
  for (auto& cq : queues) cq->Shutdown();
  for (std::thread& reader : readers) reader.join();
  for (pid_t pid : helpers) kill(pid, SIGKILL);
  for (pid_t pid : helpers) waitpid(pid, nullptr, 0);

  // A renewal cycle: every SVID renewed once, at half its TTL; idle cost in between.
  const double cycle = o.ttl_seconds * 0.5;
  const double idle_rate = idle_cpu / o.idle_seconds;
  const double cycle_pct = 100.0 * (issue_cpu + idle_rate * cycle) / cycle;
  std::cout << "{\"entries\": " << o.entries << ", \"streams\": " << fds.size()
            << ", \"create_entries_s\": " << absl::ToDoubleSeconds(created - t0)
            << ", \"issue_all_s\": " << absl::ToDoubleSeconds(issued - created)
            << ", \"issue_all_agent_cpu_s\": " << issue_cpu
            << ", \"open_streams_s\": " << absl::ToDoubleSeconds(streams_open - issued)
            << ", \"agent_rss_mib\": " << rss << ", \"idle_seconds\": " << o.idle_seconds
            << ", \"idle_cpu_percent\": " << 100.0 * idle_rate
            << ", \"renewal_cycle_cpu_percent\": " << cycle_pct << ", \"pushes\": [" << pushes.str()
            << "]}\n";
  return all_reached ? 0 : 1;
}
