#include "meshid/api/grpc_log.h"

#include <grpc/support/log.h>

#include "meshid/base/log.h"

namespace meshid::api {
namespace {

void ToSpdlog(gpr_log_func_args* args) {
  static const std::shared_ptr<spdlog::logger> logger = base::Logger("grpc");
  spdlog::level::level_enum level =
      args->severity == GPR_LOG_SEVERITY_ERROR ? spdlog::level::warn : spdlog::level::debug;
  logger->log(level, "{} ({}:{})", args->message, args->file, args->line);
}

}  // namespace

void RouteGrpcLogs() {
  gpr_set_log_verbosity(GPR_LOG_SEVERITY_DEBUG);  // filtering is the logger's job
  gpr_set_log_function(ToSpdlog);
}

}  // namespace meshid::api
