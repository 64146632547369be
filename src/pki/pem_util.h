#pragma once

// Private to the pki module: splitting PEM text into typed blocks.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace meshid::pki::internal {

struct PemBlock {
  std::string type;  // "CERTIFICATE", "PRIVATE KEY", ...
  std::string der;   // decoded body; for a legacy-encrypted key, still encrypted

  PemBlock(std::string t, std::string d) : type(std::move(t)), der(std::move(d)) {}
  PemBlock(PemBlock&&) = default;
  PemBlock& operator=(PemBlock&&) = default;
  // The body may be key material: wipe it.
  ~PemBlock();
};

// ReadPemBlocks returns every PEM block in `data`, ignoring text between blocks. A block
// that is truncated or whose base64 is damaged is InvalidArgument naming its position.
// No block at all is InvalidArgument.
absl::StatusOr<std::vector<PemBlock>> ReadPemBlocks(absl::string_view data);

}  // namespace meshid::pki::internal
