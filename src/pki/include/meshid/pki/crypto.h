#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "meshid/pki/certificate.h"

namespace meshid::pki {

// RandomBytes returns `n` bytes from OpenSSL's CSPRNG.
absl::StatusOr<std::string> RandomBytes(size_t n);

// Sha256Hex returns the SHA-256 of `data` in lowercase hex.
std::string Sha256Hex(absl::string_view data);

// FindRootKeys returns the names of the `files` (name, contents) that hold the private key
// of one of `roots`: an unencrypted key matching a root's public key, or an encrypted key
// whose name contains "root" (it cannot be compared without its passphrase).
std::vector<std::string> FindRootKeys(
    const std::vector<std::pair<std::string, absl::string_view>>& files,
    absl::Span<const Certificate> roots);

}  // namespace meshid::pki
