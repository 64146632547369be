#pragma once

#include <memory>
#include <string>

#include "spdlog/spdlog.h"

namespace meshid::base {

// Logger returns the logger of one component ("cli", "pki", "ca", ...), creating it on
// first use. Every logger writes one line per event to stderr with a UTC timestamp, the
// level and the component. Never pass key material to a logger.
std::shared_ptr<spdlog::logger> Logger(const std::string& component);

}  // namespace meshid::base
