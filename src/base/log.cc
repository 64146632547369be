#include "meshid/base/log.h"

#include <mutex>

#include "spdlog/sinks/stdout_color_sinks.h"

namespace meshid::base {

std::shared_ptr<spdlog::logger> Logger(const std::string& component) {
  // spdlog throws when two threads register the same name at once: create under one lock.
  static std::mutex* mu = new std::mutex;
  std::lock_guard<std::mutex> lock(*mu);
  if (std::shared_ptr<spdlog::logger> existing = spdlog::get(component)) {
    return existing;
  }
  std::shared_ptr<spdlog::logger> logger = spdlog::stderr_color_mt(component);
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l [%n] %v", spdlog::pattern_time_type::utc);
  return logger;
}

}  // namespace meshid::base
