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
#include "gtest/gtest.h"

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

CaProcess::CaProcess(std::string dir, std::string extra_config)
    : ServerProcess(dir + "/serve.log"), dir_(std::move(dir)) {
  CommandResult init =
      RunMeshid({"pki", "init", "--trust-domain", "example.org", "--out", dir_ + "/pki"});
  if (init.exit_code != 0) ADD_FAILURE() << "meshid pki init failed: " << init.err;
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

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Stop(SIGKILL);
}

absl::StatusOr<std::vector<std::string>> ServerProcess::Spawn(const std::vector<std::string>& args,
                                                              const std::string& ready) {
  int log_fd = open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  const off_t log_start = lseek(log_fd, 0, SEEK_END);
  std::vector<char*> argv = Argv(MESHID_BINARY, args);  // points into `args`
  pid_ = fork();
  if (pid_ == 0) {
    dup2(log_fd, 2);
    dup2(log_fd, 1);
    execv(MESHID_BINARY, argv.data());
    _exit(127);
  }
  close(log_fd);
  const std::regex pattern(ready);
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    std::smatch match;
    std::string text = Log().substr(static_cast<size_t>(log_start));
    if (std::regex_search(text, match, pattern)) {
      std::vector<std::string> groups;
      for (size_t i = 1; i < match.size(); ++i) groups.push_back(match[i]);
      return groups;
    }
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError(absl::StrCat("meshid ", args[0], " exited: ", text));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat("meshid ", args[0], " did not start: ", Log()));
}

int ServerProcess::Stop(int sig) {
  if (pid_ <= 0) return -1;
  kill(pid_, sig);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string ServerProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

absl::Status CaProcess::Start() {
  absl::StatusOr<std::vector<std::string>> ports =
      Spawn({"ca", "serve", "--config", dir_ + "/ca.yaml"},
            R"(CA serving .*\(port (\d+)\).*\(port (\d+)\))");
  if (!ports.ok()) return ports.status();
  grpc_port_ = std::stoi((*ports)[0]);
  http_port_ = std::stoi((*ports)[1]);
  return absl::OkStatus();
}

void CaProcess::PinPorts() {
  std::ifstream in(dir_ + "/ca.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::string config = text.str();
  config = std::regex_replace(config, std::regex("\nlisten: 127.0.0.1:0"),
                              "\nlisten: 127.0.0.1:" + std::to_string(grpc_port_));
  config = std::regex_replace(config, std::regex("http_listen: 127.0.0.1:0"),
                              "http_listen: 127.0.0.1:" + std::to_string(http_port_));
  std::ofstream(dir_ + "/ca.yaml") << config;
}

CommandResult CaProcess::Admin(std::vector<std::string> args) const {
  args.push_back("--admin-socket");
  args.push_back(admin_socket());
  return RunMeshid(args);
}

AgentProcess::AgentProcess(std::string dir, const CaProcess& ca, std::string node,
                           std::string extra_config)
    : ServerProcess(dir + "/agent.log"), dir_(std::move(dir)), node_(std::move(node)) {
  CommandResult token = ca.Admin({"token", "create", "--node", node_});
  if (token.exit_code != 0) ADD_FAILURE() << "meshid token create failed: " << token.err;
  std::ofstream(dir_ + "/agent.yaml") << "trust_domain: example.org\n"
                                      << "ca_address: " << ca.address() << "\n"
                                      << "data_dir: " << data_dir() << "\n"
                                      << "join_token: " << token.out  // ends with a newline
                                      << "trust_bundle: " << ca.bundle_path() << "\n"
                                      << "socket_path: " << socket_path() << "\n"
                                      << "http_listen: 127.0.0.1:0\n"
                                      << "node_name: " << node_ << "\n"
                                      << extra_config << "\n";
}

void AgentProcess::NewJoinToken(const CaProcess& ca) {
  CommandResult token = ca.Admin({"token", "create", "--node", node_});
  if (token.exit_code != 0) ADD_FAILURE() << "meshid token create failed: " << token.err;
  std::ifstream in(dir_ + "/agent.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::ofstream(dir_ + "/agent.yaml")
      << std::regex_replace(text.str(), std::regex("join_token: .*\n"), "join_token: " + token.out);
}

absl::Status AgentProcess::Start(const std::vector<std::string>& flags) {
  std::vector<std::string> args = {"agent", "run", "--config", dir_ + "/agent.yaml"};
  args.insert(args.end(), flags.begin(), flags.end());
  absl::StatusOr<std::vector<std::string>> port =
      Spawn(args, R"(agent running: .* metrics on port (\d+))");
  if (!port.ok()) return port.status();
  http_port_ = std::stoi((*port)[0]);
  return absl::OkStatus();
}

}  // namespace meshid::integration
