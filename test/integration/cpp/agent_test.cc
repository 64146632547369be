// The node agent as workloads see it: real `meshid ca serve` and `meshid agent run`
// processes, the Workload API over the agent's unix socket, callers under several uids
// (through setpriv), `meshid svid` and openssl as peers.

#include <filesystem>
#include <fstream>
#include <functional>

#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "ca_process.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "meshid/agent/workload_client.h"
#include "meshid/base/files.h"
#include "meshid/ca/v1/admin.grpc.pb.h"
#include "meshid/pki/certificate.h"
#include "meshid/testing/temp_dir.h"
#include "spiffe/workload/workload.grpc.pb.h"

namespace meshid::integration {
namespace {

using ::testing::HasSubstr;
namespace fs = std::filesystem;

// Callers other than this process run under these ids (setpriv), so the test needs root.
constexpr int kOtherUid = 4242;
constexpr int kStrangerUid = 4343;

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to run callers under other uids (setpriv)";
    // Callers under other uids must reach the socket inside the temporary directory.
    chmod(dir_.c_str(), 0755);
  }

  void TearDown() override {
    agent_.reset();
    ca_.reset();
    if (HasFailure()) temp_.Keep();  // logs and files, for a post-mortem
  }

  void StartCa(const std::string& extra_config = "") {
    ca_ = std::make_unique<CaProcess>(dir_ + "/ca", extra_config);
    absl::Status started = ca_->Start();
    ASSERT_TRUE(started.ok()) << started;
    ca_->PinPorts();
  }

  // The agents of these tests poll entries only hourly: entries reach them through the CA's
  // change signal.
  void StartAgent(const std::string& extra_config = "sync_interval: 1h") {
    fs::create_directories(dir_ + "/agent");
    agent_ = std::make_unique<AgentProcess>(dir_ + "/agent", *ca_, "node1", extra_config);
    absl::Status started = agent_->Start();
    ASSERT_TRUE(started.ok()) << started;
  }

  // Entry registers `path` for callers with uid `uid` on node1 (attested by StartAgent).
  void Entry(const std::string& path, int uid, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"entry",       "create",
                                     "--spiffe-id", "spiffe://example.org" + path,
                                     "--parent-id", "spiffe://example.org/meshid/node/node1",
                                     "--selector",  absl::StrCat("unix:uid:", uid)};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult r = ca_->Admin(args);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

  // WaitForEntries waits until the agent holds `n` entries (its metrics say so): a caller
  // that comes before its entry is, rightly, denied.
  void WaitForEntries(int n) const {
    const std::string want = absl::StrCat("meshid_agent_entries ", n, "\n");
    absl::Time deadline = absl::Now() + absl::Seconds(20);
    while (absl::Now() < deadline) {
      if (Metrics().find(want) != std::string::npos) return;
      absl::SleepFor(absl::Milliseconds(100));
    }
    ADD_FAILURE() << "the agent never held " << n << " entries: " << agent_->Log();
  }

  // Metrics scrapes the agent's /metrics.
  std::string Metrics() const {
    return RunCommand("curl",
                      {"-sf", absl::StrCat("http://127.0.0.1:", agent_->http_port(), "/metrics")})
        .out;
  }

  // Pushes returns how many bundle or SVID changes the agent has handed to its open streams.
  int Pushes() const {
    const std::string metrics = Metrics();
    const std::string count = "meshid_agent_workload_push_duration_seconds_count ";
    const size_t at = metrics.find(count);
    if (at == std::string::npos) {
      ADD_FAILURE() << "no " << count << "in " << metrics;
      return -1;
    }
    return std::stoi(metrics.substr(at + count.size()));
  }

  // Svid runs `meshid svid <args>` against the agent as `uid`.
  CommandResult SvidAs(int uid, std::vector<std::string> args) const {
    std::vector<std::string> argv = {absl::StrCat("--reuid=", uid), absl::StrCat("--regid=", uid),
                                     "--clear-groups", MESHID_BINARY, "svid"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--socket");
    argv.push_back(agent_->socket_address());
    return RunCommand("setpriv", argv);
  }

  std::unique_ptr<agent::WorkloadClient> Client() const {
    return *agent::WorkloadClient::Connect(agent_->socket_address());
  }

  // StartWithOneRootAndEntry starts the CA and the agent, registers an entry for this
  // process and returns a client that has received its SVID (one root in the bundle).
  std::unique_ptr<agent::WorkloadClient> StartWithOneRootAndEntry() {
    StartCa();
    StartAgent();
    Entry("/ns/a/sa/root", 0);
    WaitForEntries(1);
    std::unique_ptr<agent::WorkloadClient> client = Client();
    absl::StatusOr<std::vector<agent::X509Svid>> svids = client->FetchX509(absl::Seconds(20));
    EXPECT_TRUE(svids.ok() && svids->front().bundle.size() == 1) << agent_->Log();
    return client;
  }

  // NewRoot makes another root of example.org, as a rotation would publish, and returns it.
  std::string NewRoot() {
    const std::string out = absl::StrCat(dir_, "/pki", ++roots_made_);
    RunMeshid({"pki", "init", "--trust-domain", "example.org", "--out", out});
    return *base::ReadFile(out + "/root/root.crt");
  }

  testing::TempDir temp_;
  std::string dir_ = temp_.path();
  std::unique_ptr<CaProcess> ca_;
  std::unique_ptr<AgentProcess> agent_;
  int roots_made_ = 0;
};

// A stub for raw Workload API calls, and a context carrying the security header.
std::unique_ptr<SpiffeWorkloadAPI::Stub> Stub(const std::string& socket) {
  return SpiffeWorkloadAPI::NewStub(
      grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
}

void WithHeader(grpc::ClientContext& context) {
  context.AddMetadata("workload.spiffe.io", "true");
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
}

TEST_F(AgentTest, ProcessesUnderTwoUidsGetTheirOwnSvids) {
  StartCa();
  StartAgent();
  Entry("/ns/a/sa/root", 0);
  Entry("/ns/b/sa/other", kOtherUid, {"--hint", "internal"});
  WaitForEntries(2);

  absl::StatusOr<std::vector<agent::X509Svid>> mine = Client()->FetchX509(absl::Seconds(20));
  ASSERT_TRUE(mine.ok()) << mine.status() << agent_->Log();
  ASSERT_EQ(mine->size(), 1u);
  EXPECT_EQ((*mine)[0].spiffe_id, "spiffe://example.org/ns/a/sa/root");
  EXPECT_EQ(*(*mine)[0].chain.front().spiffe_id(), *pki::SpiffeId::Parse((*mine)[0].spiffe_id));

  CommandResult other = SvidAs(kOtherUid, {"fetch", "--json"});
  ASSERT_EQ(other.exit_code, 0) << other.err;
  EXPECT_THAT(other.out, HasSubstr("\"spiffe_id\": \"spiffe://example.org/ns/b/sa/other\""));
  EXPECT_THAT(other.out, HasSubstr("\"hint\": \"internal\""));
  EXPECT_THAT(other.out, Not(HasSubstr("/ns/a/sa/root")));
}

TEST_F(AgentTest, ACallerWithoutAnEntryIsDenied) {
  StartCa();
  StartAgent();
  Entry("/ns/a/sa/root", 0);
  WaitForEntries(1);
  CommandResult stranger = SvidAs(kStrangerUid, {"fetch"});
  EXPECT_EQ(stranger.exit_code, 2);
  EXPECT_THAT(stranger.err, HasSubstr("no identity issued"));
  EXPECT_THAT(stranger.err, HasSubstr(absl::StrCat("uid ", kStrangerUid)));
}

TEST_F(AgentTest, ACallWithoutTheSecurityHeaderIsInvalidArgument) {
  StartCa();
  StartAgent();
  Entry("/ns/a/sa/root", 0);
  WaitForEntries(1);
  auto stub = Stub(agent_->socket_path());
  for (bool x509 : {true, false}) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    grpc::Status status;
    if (x509) {
      auto reader = stub->FetchX509SVID(&context, X509SVIDRequest());
      X509SVIDResponse response;
      EXPECT_FALSE(reader->Read(&response));
      status = reader->Finish();
    } else {
      JWTSVIDResponse response;
      JWTSVIDRequest request;
      request.add_audience("x");
      status = stub->FetchJWTSVID(&context, request, &response);
    }
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr("security header"));
  }
  // The experimental WIT-SVID profile is not offered.
  grpc::ClientContext context;
  context.AddMetadata("workload.spiffe.io", "true");
  auto reader = stub->FetchWITSVID(&context, WITSVIDRequest());
  WITSVIDResponse response;
  EXPECT_FALSE(reader->Read(&response));
  EXPECT_EQ(reader->Finish().error_code(), grpc::StatusCode::UNIMPLEMENTED);
}

TEST_F(AgentTest, AFetchX509SvidRequestThatIsNotTheMessageIsInvalidArgument) {
  StartCa();
  StartAgent();
  auto channel =
      grpc::CreateChannel("unix:" + agent_->socket_path(), grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  WithHeader(context);
  const std::string garbage = "\xff\xff\xff\xff";  // a field tag that never ends
  grpc::Slice slice(garbage);
  grpc::ByteBuffer request(&slice, 1);
  grpc::CompletionQueue cq;
  grpc::ByteBuffer response;
  grpc::Status status;
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
      stub.PrepareUnaryCall(&context, "/SpiffeWorkloadAPI/FetchX509SVID", request, &cq);
  call->StartCall();
  call->Finish(&response, &status, nullptr);
  void* tag;
  bool ok;
  ASSERT_TRUE(cq.Next(&tag, &ok));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("not an X509SVIDRequest"));
}

TEST_F(AgentTest, JwtSvidsAreIssuedValidatedAndVerifiableByPyJwt) {
  StartCa();
  StartAgent();
  Entry("/ns/a/sa/root", 0, {"--hint", "primary"});
  WaitForEntries(1);
  auto stub = Stub(agent_->socket_path());

  JWTSVIDRequest request;
  request.add_audience("spiffe://example.org/ns/db/sa/postgres");
  JWTSVIDResponse fetched;
  {
    grpc::ClientContext context;
    WithHeader(context);
    grpc::Status status = stub->FetchJWTSVID(&context, request, &fetched);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  ASSERT_EQ(fetched.svids_size(), 1);
  EXPECT_EQ(fetched.svids(0).spiffe_id(), "spiffe://example.org/ns/a/sa/root");
  EXPECT_EQ(fetched.svids(0).hint(), "primary");
  const std::string token = fetched.svids(0).svid();

  for (const std::string audience : {"spiffe://example.org/ns/db/sa/postgres", "someone-else"}) {
    grpc::ClientContext context;
    WithHeader(context);
    ValidateJWTSVIDRequest validate;
    validate.set_audience(audience);
    validate.set_svid(token);
    ValidateJWTSVIDResponse validated;
    grpc::Status status = stub->ValidateJWTSVID(&context, validate, &validated);
    if (audience == "someone-else") {
      EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
      continue;
    }
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(validated.spiffe_id(), "spiffe://example.org/ns/a/sa/root");
    EXPECT_TRUE(validated.claims().fields().contains("exp"));
  }

  JWTSVIDRequest not_mine = request;
  not_mine.set_spiffe_id("spiffe://example.org/ns/other/sa/x");
  {
    grpc::ClientContext context;
    WithHeader(context);
    JWTSVIDResponse response;
    EXPECT_EQ(stub->FetchJWTSVID(&context, not_mine, &response).error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }

  // The JWT bundle, checked by an independent implementation (PyJWT).
  grpc::ClientContext context;
  WithHeader(context);
  auto reader = stub->FetchJWTBundles(&context, JWTBundlesRequest());
  JWTBundlesResponse bundles;
  ASSERT_TRUE(reader->Read(&bundles));
  context.TryCancel();
  ASSERT_TRUE(bundles.bundles().contains("spiffe://example.org"));
  std::ofstream(dir_ + "/jwks.json") << bundles.bundles().at("spiffe://example.org");
  std::ofstream(dir_ + "/token") << token;
  CommandResult pyjwt =
      RunCommand("/usr/bin/python3",
                 {"-c",
                  "import json, sys, jwt\n"
                  "jwks = jwt.PyJWKSet.from_json(open(sys.argv[1]).read())\n"
                  "token = open(sys.argv[2]).read()\n"
                  "kid = jwt.get_unverified_header(token)['kid']\n"
                  "key = [k for k in jwks.keys if k.key_id == kid][0]\n"
                  "claims = jwt.decode(token, key.key, algorithms=['ES256'],\n"
                  "                    audience='spiffe://example.org/ns/db/sa/postgres')\n"
                  "print(claims['sub'])\n",
                  dir_ + "/jwks.json", dir_ + "/token"});
  EXPECT_EQ(pyjwt.exit_code, 0) << pyjwt.err;
  EXPECT_EQ(pyjwt.out, "spiffe://example.org/ns/a/sa/root\n");
}

TEST_F(AgentTest, ServerReflectionListsTheWorkloadApi) {
  StartCa();
  StartAgent();
  // A raw reflection call (the reflection protos are not installed): the request is
  // ServerReflectionRequest{list_services: ""}, field 7, length-delimited, empty.
  grpc::GenericStub stub(
      grpc::CreateChannel("unix:" + agent_->socket_path(), grpc::InsecureChannelCredentials()));
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  void* tag = nullptr;
  bool ok = false;
  auto step = [&](auto&& start) {
    start(reinterpret_cast<void*>(1));
    return cq.Next(&tag, &ok) && ok;
  };
  ASSERT_TRUE(step([&](void* t) { call->StartCall(t); }));
  grpc::Slice slice(std::string("\x3a\x00", 2));
  grpc::ByteBuffer request(&slice, 1);
  ASSERT_TRUE(step([&](void* t) { call->Write(request, t); }));
  grpc::ByteBuffer response;
  ASSERT_TRUE(step([&](void* t) { call->Read(&response, t); }));
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const grpc::Slice& s : slices)
    bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  EXPECT_THAT(bytes, HasSubstr("SpiffeWorkloadAPI"));
  step([&](void* t) { call->WritesDone(t); });
  grpc::Status status;
  step([&](void* t) { call->Finish(&status, t); });
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
}

// Serials returns the serial of each update's first SVID, as they arrive, until `enough`.
std::vector<std::string> WatchSerials(agent::WorkloadClient& client, size_t enough,
                                      absl::Duration limit) {
  std::vector<std::string> serials;
  absl::Time deadline = absl::Now() + limit;
  std::thread stopper([&] {
    while (absl::Now() < deadline && serials.size() < enough)
      absl::SleepFor(absl::Milliseconds(50));
    client.Cancel();
  });
  (void)client.WatchX509([&](const std::vector<agent::X509Svid>& svids) {
    const pki::Certificate& leaf = svids.front().chain.front();
    // Every update arrives before the SVID it replaces expires.
    EXPECT_GT(leaf.not_after(), absl::Now());
    serials.push_back(leaf.serial_hex());
    return serials.size() < enough;
  });
  stopper.join();
  return serials;
}

TEST_F(AgentTest, RenewalsArriveOnAnOpenStreamBeforeExpiry) {
  StartCa();
  StartAgent();
  Entry("/ns/a/sa/short", 0, {"--ttl", "20s"});
  WaitForEntries(1);
  std::unique_ptr<agent::WorkloadClient> client = Client();
  absl::Time current_expiry = absl::InfiniteFuture();
  std::vector<std::string> serials;
  absl::Status watched = client->WatchX509([&](const std::vector<agent::X509Svid>& svids) {
    const pki::Certificate& leaf = svids.front().chain.front();
    EXPECT_LT(absl::Now(), current_expiry) << "an update came after the SVID it replaces expired";
    current_expiry = leaf.not_after();
    serials.push_back(leaf.serial_hex());
    return serials.size() < 3;
  });
  ASSERT_TRUE(watched.ok()) << watched;
  ASSERT_EQ(serials.size(), 3u) << agent_->Log();
  EXPECT_NE(serials[0], serials[1]);
  EXPECT_NE(serials[1], serials[2]);
}

TEST_F(AgentTest, KeepsServingThroughACaOutageAndResumesRenewals) {
  StartCa();
  StartAgent();
  Entry("/ns/a/sa/short", 0, {"--ttl", "30s"});
  WaitForEntries(1);
  absl::StatusOr<std::vector<agent::X509Svid>> before = Client()->FetchX509(absl::Seconds(20));
  ASSERT_TRUE(before.ok()) << before.status();
  const pki::Certificate& first = before->front().chain.front();

  // Down across the renewal, due at half of the 30 s (±10 %).
  ca_->Stop(SIGKILL);
  absl::SleepFor(absl::Seconds(17));
  absl::StatusOr<std::vector<agent::X509Svid>> during = Client()->FetchX509(absl::Seconds(5));
  ASSERT_TRUE(during.ok()) << during.status();
  EXPECT_EQ(during->front().chain.front().serial_hex(), first.serial_hex())
      << "the cached SVID is served while the CA is away";
  EXPECT_THAT(agent_->Log(), HasSubstr("CA call failed"));

  ASSERT_TRUE(ca_->Start().ok());
  std::unique_ptr<agent::WorkloadClient> client = Client();
  std::vector<std::string> serials = WatchSerials(*client, 2, first.not_after() - absl::Now());
  ASSERT_EQ(serials.size(), 2u) << "no renewal before the old SVID expired: " << agent_->Log();
  EXPECT_NE(serials[1], first.serial_hex());
}

// AddOrRemoveRoot changes the CA's bundle over the admin socket.
void AddOrRemoveRoot(const std::string& admin_socket, const std::string& pem, bool add) {
  auto admin = ca::v1::Admin::NewStub(
      grpc::CreateChannel("unix:" + admin_socket, grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  ca::v1::Bundle bundle;
  grpc::Status status;
  if (add) {
    ca::v1::AddRootRequest request;
    request.set_certificate(pem);
    status = admin->AddRoot(&context, request, &bundle);
  } else {
    ca::v1::RemoveRootRequest request;
    request.set_certificate(pem);
    status = admin->RemoveRoot(&context, request, &bundle);
  }
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(AgentTest, ABundleChangeReachesAnOpenStreamWithinTwoSeconds) {
  std::unique_ptr<agent::WorkloadClient> client = StartWithOneRootAndEntry();
  std::string new_root = NewRoot();  // another root, as a rotation would publish it
  absl::Time added_at;
  int pushes_before = -1;
  size_t roots_before = 0;
  std::thread adder([&] {
    absl::SleepFor(absl::Seconds(1));  // the stream below is open by then
    pushes_before = Pushes();
    added_at = absl::Now();
    AddOrRemoveRoot(ca_->admin_socket(), new_root, /*add=*/true);
  });
  absl::Time received_at;
  (void)client->WatchX509([&](const std::vector<agent::X509Svid>& svids) {
    if (roots_before == 0) {
      roots_before = svids.front().bundle.size();
      return true;
    }
    received_at = absl::Now();
    EXPECT_EQ(svids.front().bundle.size(), roots_before + 1);
    return false;
  });
  adder.join();
  ASSERT_NE(received_at, absl::Time()) << "the stream ended without the new bundle";
  EXPECT_LT(received_at - added_at, absl::Seconds(2)) << agent_->Log();
  // The push to the open stream was timed.
  EXPECT_GT(Pushes(), pushes_before);
}

// WaitForRoots waits until an X509-SVID on `client`'s stream carries `n` roots.
void WaitForRoots(agent::WorkloadClient& client, size_t n) {
  absl::Time deadline = absl::Now() + absl::Seconds(10);
  size_t roots = 0;
  while (roots != n && absl::Now() < deadline) {
    absl::StatusOr<std::vector<agent::X509Svid>> svids = client.FetchX509(absl::Seconds(5));
    ASSERT_TRUE(svids.ok()) << svids.status();
    roots = svids->front().bundle.size();
    if (roots != n) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_EQ(roots, n);
}

// Occurrences counts `what` in `text`.
size_t Occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// WaitUntil polls `done` for up to 10 s and returns its last answer.
bool WaitUntil(const std::function<bool()>& done) {
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  while (!done() && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(100));
  return done();
}

// Adding a root must not reconnect every agent to the CA (the open watch was authenticated
// with a root that stays trusted); removing one re-authenticates the CA on a new watch.
TEST_F(AgentTest, AddingARootKeepsTheCaWatchAndRemovingOneRestartsIt) {
  std::unique_ptr<agent::WorkloadClient> client = StartWithOneRootAndEntry();
  auto watches = [&] { return Occurrences(agent_->Log(), "watching the CA for changes"); };
  ASSERT_EQ(watches(), 1u) << agent_->Log();

  const std::string new_root = NewRoot();
  AddOrRemoveRoot(ca_->admin_socket(), new_root, /*add=*/true);
  WaitForRoots(*client, 2);
  absl::SleepFor(absl::Seconds(1));  // a restarted watch would have logged by now
  EXPECT_EQ(watches(), 1u) << agent_->Log();

  AddOrRemoveRoot(ca_->admin_socket(), new_root, /*add=*/false);
  WaitForRoots(*client, 1);
  EXPECT_TRUE(WaitUntil([&] { return watches() == 2; })) << agent_->Log();
  // The agent still works with the CA on the new watch.
  Entry("/ns/a/sa/second", 0);
  WaitForEntries(2);
}

// Workloads get a new bundle even when the agent cannot save it (here its file has been
// replaced by a directory); the agent says so.
TEST_F(AgentTest, ABundleThatCannotBeSavedIsStillServed) {
  std::unique_ptr<agent::WorkloadClient> client = StartWithOneRootAndEntry();
  const std::string bundle_file = agent_->data_dir() + "/bundle.json";
  ASSERT_TRUE(fs::exists(bundle_file)) << "the agent keeps its bundle elsewhere";
  fs::remove(bundle_file);
  fs::create_directory(bundle_file);

  AddOrRemoveRoot(ca_->admin_socket(), NewRoot(), /*add=*/true);
  WaitForRoots(*client, 2);
  EXPECT_TRUE(WaitUntil([&] {
    return agent_->Log().find("is served but not saved") != std::string::npos;
  })) << agent_->Log();
}

TEST_F(AgentTest, SvidSyncReplacesFilesAtomicallyAndTheyWorkForOpensslMtls) {
  StartCa();
  StartAgent();
  Entry("/ns/a/sa/short", 0, {"--ttl", "20s"});
  WaitForEntries(1);
  const std::string out = dir_ + "/sync";
  pid_t sync = fork();
  if (sync == 0) {
    execl(MESHID_BINARY, MESHID_BINARY, "svid", "sync", "--out", out.c_str(), "--socket",
          agent_->socket_address().c_str(), "--exec", ("touch " + out + "/.reloaded").c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  // Watch svid.pem across a renewal: every read is a whole chain matching a whole key.
  std::set<ino_t> inodes;
  absl::Time deadline = absl::Now() + absl::Seconds(40);
  while (absl::Now() < deadline && inodes.size() < 2) {
    struct stat st {};
    if (stat((out + "/svid.pem").c_str(), &st) == 0 && base::PathExists(out + "/.reloaded")) {
      absl::StatusOr<std::string> chain = base::ReadFile(out + "/svid.pem");
      ASSERT_TRUE(chain.ok());
      absl::StatusOr<std::vector<pki::Certificate>> certs = pki::ParseCertificates(*chain);
      ASSERT_TRUE(certs.ok()) << "a partial svid.pem was visible: " << certs.status();
      inodes.insert(st.st_ino);
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_EQ(inodes.size(), 2u) << "svid.pem was not replaced by a renewal";
  struct stat key_stat {};
  ASSERT_EQ(stat((out + "/svid.key").c_str(), &key_stat), 0);
  EXPECT_EQ(key_stat.st_mode & 0777, 0600);

  // The files as nginx or HAProxy would use them: an mTLS exchange between two openssl peers.
  std::vector<pki::Certificate> chain = *pki::ParseCertificates(*base::ReadFile(out + "/svid.pem"));
  std::ofstream(out + "/intermediates.pem") << pki::ToPem(absl::MakeConstSpan(chain).subspan(1));
  int port = 20000 + getpid() % 20000;
  pid_t server = fork();
  if (server == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    // -www: answers by itself instead of relaying stdin, which would end it at once.
    execlp("openssl", "openssl", "s_server", "-www", "-accept", std::to_string(port).c_str(),
           "-naccept", "1", "-cert", (out + "/svid.pem").c_str(), "-key",
           (out + "/svid.key").c_str(), "-cert_chain", (out + "/intermediates.pem").c_str(),
           "-CAfile", (out + "/bundle.pem").c_str(), "-Verify", "3", "-verify_return_error",
           static_cast<char*>(nullptr));
    _exit(127);
  }
  absl::SleepFor(absl::Milliseconds(500));
  CommandResult client =
      RunCommand("openssl", {"s_client", "-connect", absl::StrCat("127.0.0.1:", port), "-cert",
                             out + "/svid.pem", "-key", out + "/svid.key", "-cert_chain",
                             out + "/intermediates.pem", "-CAfile", out + "/bundle.pem",
                             "-verify_return_error", "-brief"});
  EXPECT_EQ(client.exit_code, 0) << client.out << client.err;
  EXPECT_THAT(client.err, HasSubstr("Verification: OK"));
  kill(server, SIGKILL);
  waitpid(server, nullptr, 0);
  kill(sync, SIGTERM);
  int status = 0;
  waitpid(sync, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "svid sync did not stop cleanly";
}

TEST_F(AgentTest, ReissueRequestReachesOpenStreams) {
  StartCa();
  StartAgent();
  Entry("/ns/a/sa/root", 0);
  WaitForEntries(1);
  std::unique_ptr<agent::WorkloadClient> client = Client();
  std::vector<std::string> serials;
  std::thread reissue([&] {
    absl::SleepFor(absl::Seconds(1));
    CommandResult r = ca_->Admin({"node", "reissue"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
  });
  serials = WatchSerials(*client, 2, absl::Seconds(20));
  reissue.join();
  ASSERT_EQ(serials.size(), 2u) << agent_->Log();
  EXPECT_NE(serials[0], serials[1]);
  EXPECT_THAT(agent_->Log(), HasSubstr("the CA asked for every SVID to be re-issued"));
}

TEST_F(AgentTest, MetricsAndHealthAreServedAndValidForPromtool) {
  StartCa();
  StartAgent();
  Entry("/ns/a/sa/root", 0);
  WaitForEntries(1);
  ASSERT_TRUE(Client()->FetchX509(absl::Seconds(20)).ok());
  const std::string base = absl::StrCat("http://127.0.0.1:", agent_->http_port());
  EXPECT_EQ(RunCommand("curl", {"-sf", base + "/healthz"}).exit_code, 0);
  EXPECT_EQ(RunCommand("curl", {"-sf", base + "/readyz"}).exit_code, 0);
  CommandResult metrics = RunCommand("curl", {"-sf", base + "/metrics"});
  ASSERT_EQ(metrics.exit_code, 0);
  EXPECT_THAT(metrics.out, HasSubstr("meshid_agent_svid_not_after_seconds{spiffe_id=\"spiffe://"
                                     "example.org/ns/a/sa/root\"}"));
  EXPECT_THAT(metrics.out, HasSubstr("meshid_agent_svid_renewals_total{result=\"ok\"} 1"));
  EXPECT_THAT(metrics.out, HasSubstr("meshid_agent_ca_reachable 1"));
  EXPECT_THAT(metrics.out, HasSubstr("meshid_agent_bundle_sequence 2"));
  // Calls in progress: the fetch above may not have been noticed as ended yet.
  EXPECT_THAT(metrics.out, HasSubstr("meshid_agent_workload_api_clients "));
  EXPECT_THAT(metrics.out, HasSubstr("meshid_agent_node_svid_not_after_seconds"));
  std::ofstream(dir_ + "/metrics.txt") << metrics.out;
  CommandResult promtool =
      RunCommand("sh", {"-c", "promtool check metrics < " + dir_ + "/metrics.txt"});
  EXPECT_EQ(promtool.exit_code, 0) << promtool.out << promtool.err;
}

TEST_F(AgentTest, NodeSvidRenewsKeepsAcrossRestartsAndReattestsWhenExpired) {
  StartCa("node_svid_ttl: 4s");
  StartAgent();
  const std::string node_pem = agent_->data_dir() + "/node.pem";
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline && agent_->Log().find("node SVID renewed") == std::string::npos) {
    absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_THAT(agent_->Log(), HasSubstr("node SVID renewed"));
  // A restart within the SVID's life reuses it (the join token is spent).
  agent_->Stop(SIGTERM);
  ASSERT_TRUE(agent_->Start().ok()) << agent_->Log();
  agent_->Stop(SIGKILL);

  absl::SleepFor(absl::Seconds(5));  // the node SVID expires while the agent is down
  absl::Status refused = agent_->Start();
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.message(), HasSubstr("expired at"));
  EXPECT_THAT(refused.message(), HasSubstr("meshid token create --node node1"));

  agent_->NewJoinToken(*ca_);  // the documented procedure
  absl::Status started = agent_->Start();
  ASSERT_TRUE(started.ok()) << started;
  std::vector<pki::Certificate> chain = *pki::ParseCertificates(*base::ReadFile(node_pem));
  EXPECT_GT(chain.front().not_after(), absl::Now());
}

TEST_F(AgentTest, TheTrustBundleIsRequiredUnlessTheBootstrapIsInsecure) {
  StartCa();
  fs::create_directories(dir_ + "/agent");
  // The generated configuration names the CA's bundle; drop it.
  agent_ = std::make_unique<AgentProcess>(dir_ + "/agent", *ca_, "node1");
  std::string config = *base::ReadFile(dir_ + "/agent/agent.yaml");
  config.erase(config.find("trust_bundle:"),
               config.find('\n', config.find("trust_bundle:")) - config.find("trust_bundle:") + 1);
  std::ofstream(dir_ + "/agent/agent.yaml") << config;

  absl::Status refused = agent_->Start();
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.message(), HasSubstr("trust_bundle: required"));
  EXPECT_THAT(refused.message(), HasSubstr("--insecure-bootstrap"));

  absl::Status started = agent_->Start({"--insecure-bootstrap"});
  ASSERT_TRUE(started.ok()) << started;
  EXPECT_THAT(agent_->Log(), HasSubstr("--insecure-bootstrap: the first attestation trusts"));
  // The bundle the CA returned is kept and trusted from now on.
  EXPECT_TRUE(base::PathExists(agent_->data_dir() + "/bundle.json"));
  Entry("/ns/a/sa/root", 0);
  WaitForEntries(1);
  EXPECT_TRUE(Client()->FetchX509(absl::Seconds(20)).ok());
}

TEST_F(AgentTest, SvidWatchPrintsUpdatesUntilStopped) {
  StartCa();
  StartAgent();
  Entry("/ns/a/sa/root", 0);
  WaitForEntries(1);
  const std::string out = dir_ + "/watch.out";
  pid_t watch = fork();
  if (watch == 0) {
    int fd = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    execl(MESHID_BINARY, MESHID_BINARY, "svid", "watch", "--json", "--socket",
          agent_->socket_address().c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  absl::Time deadline = absl::Now() + absl::Seconds(20);
  while (absl::Now() < deadline && base::ReadFile(out).value_or("").find(
                                       "spiffe://example.org/ns/a/sa/root") == std::string::npos) {
    absl::SleepFor(absl::Milliseconds(50));
  }
  kill(watch, SIGTERM);
  int status = 0;
  waitpid(watch, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "svid watch did not stop cleanly";
  std::string printed = base::ReadFile(out).value_or("");
  EXPECT_THAT(printed, HasSubstr("\"spiffe_id\":\"spiffe://example.org/ns/a/sa/root\""));
  EXPECT_THAT(printed, HasSubstr("\"received_at\""));
}

// Contains reports whether any regular file under `root` holds `needle`.
std::string FindIn(const std::string& root, const std::vector<std::string>& needles) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(
           root, fs::directory_options::skip_permission_denied, ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec || !it->is_regular_file(ec) || it->file_size(ec) > 4 * 1024 * 1024) continue;
    absl::StatusOr<std::string> text = base::ReadFile(it->path(), 4 * 1024 * 1024);
    if (!text.ok()) continue;
    for (const std::string& needle : needles) {
      if (text->find(needle) != std::string::npos) return it->path();
    }
  }
  return "";
}

TEST_F(AgentTest, NoWorkloadKeyEverTouchesTheDisk) {
  StartCa();
  StartAgent();
  Entry("/ns/a/sa/root", 0);
  Entry("/ns/a/sa/short", 0, {"--ttl", "20s"});
  WaitForEntries(2);
  std::unique_ptr<agent::WorkloadClient> client = Client();
  std::vector<std::string> needles;
  (void)client->WatchX509([&](const std::vector<agent::X509Svid>& svids) {
    for (const agent::X509Svid& svid : svids) {
      std::string der(svid.key.ToPkcs8Der()->view());
      needles.push_back(der);
      // The base64 of the key's body, as any PEM or JSON copy would hold it.
      needles.push_back(absl::Base64Escape(der.substr(der.size() - 40)).substr(0, 40));
    }
    return needles.size() < 8;  // the first SVIDs and a renewal of the short one
  });
  ASSERT_GE(needles.size(), 8u);
  EXPECT_EQ(FindIn(agent_->dir(), needles), "");
  EXPECT_EQ(FindIn("/tmp", needles), "");
  // The node's own key is there, 0600.
  struct stat st {};
  ASSERT_EQ(stat((agent_->data_dir() + "/node.pem").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
}

}  // namespace
}  // namespace meshid::integration
