#include "ca_process.h"

#include <fstream>
#include <regex>
#include <sstream>

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace meshid::integration {
namespace {

std::string ReadAll(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, static_cast<size_t>(n));
  return out;
}

std::vector<char*> Argv(const char* program, const std::vector<std::string>& args) {
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(program));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  return argv;
}

}  // namespace

CommandResult RunMeshid(const std::vector<std::string>& args) {
  return RunCommand(MESHID_BINARY, args);
}

CommandResult RunCommand(const std::string& program, const std::vector<std::string>& args) {
  // Output goes to files, not pipes: a chatty command cannot block on a full pipe.
  char out_path[] = "/tmp/meshid-out-XXXXXX";
  char err_path[] = "/tmp/meshid-err-XXXXXX";
  int out_fd = mkstemp(out_path);
  int err_fd = mkstemp(err_path);
  std::vector<char*> argv = Argv(program.c_str(), args);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execvp(program.c_str(), argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  lseek(out_fd, 0, SEEK_SET);
  lseek(err_fd, 0, SEEK_SET);
  result.out = ReadAll(out_fd);
  result.err = ReadAll(err_fd);
  close(out_fd);
  close(err_fd);
  unlink(out_path);
  unlink(err_path);
  return result;
}

CaProcess::CaProcess(std::string dir, std::string extra_config) : dir_(std::move(dir)) {
  RunMeshid({"pki", "init", "--trust-domain", "example.org", "--out", dir_ + "/pki"});
  // The root belongs offline: keep it out of the tree the server sees.
  rename((dir_ + "/pki/root").c_str(), (dir_ + "/offline-root").c_str());
  std::ofstream(dir_ + "/ca.yaml") << "trust_domain: example.org\n"
                                   << "listen: 127.0.0.1:0\n"
                                   << "http_listen: 127.0.0.1:0\n"
                                   << "admin_socket: " << admin_socket() << "\n"
                                   << "data_dir: " << dir_ << "/data\n"
                                   << "upstream_dir: " << upstream_dir() << "\n"
                                   << extra_config << "\n";
}

CaProcess::~CaProcess() {
  if (pid_ > 0) Stop(SIGKILL);
}

absl::Status CaProcess::Start() {
  ++starts_;
  std::string log = dir_ + "/serve.log";
  int log_fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  const std::vector<std::string> args = {"ca", "serve", "--config", dir_ + "/ca.yaml"};
  std::vector<char*> argv = Argv(MESHID_BINARY, args);  // points into `args`, which must outlive it
  pid_ = fork();
  if (pid_ == 0) {
    dup2(log_fd, 2);
    dup2(log_fd, 1);
    execv(MESHID_BINARY, argv.data());
    _exit(127);
  }
  close(log_fd);
  static const std::regex kServing(R"(CA serving .*\(port (\d+)\).*\(port (\d+)\))");
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    std::smatch match;
    std::string text = Log();
    if (std::regex_search(text, match, kServing)) {
      grpc_port_ = std::stoi(match[1]);
      http_port_ = std::stoi(match[2]);
      return absl::OkStatus();
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat("meshid ca serve exited: ", text));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat("meshid ca serve did not start: ", Log()));
}

int CaProcess::Stop(int sig) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string CaProcess::Log() const {
  std::ifstream in(dir_ + "/serve.log");
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

CommandResult CaProcess::Admin(std::vector<std::string> args) const {
  args.push_back("--admin-socket");
  args.push_back(admin_socket());
  return RunMeshid(args);
}

}  // namespace meshid::integration
