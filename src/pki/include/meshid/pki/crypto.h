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

// Sha256HexOfFile returns the SHA-256, in lowercase hex, of the whole contents of the
// regular file open as `fd`, streamed in blocks so that a large file is never held in
// memory. It reads from offset 0 with pread, so the fd's file offset is left untouched and
// several threads may hash the same fd; the caller keeps ownership of `fd`. Errors:
// InvalidArgument when `fd` is not an open regular file, ResourceExhausted when the file
// holds more than `max_bytes` bytes (checked against its size first, and again while
// reading since a file can grow meanwhile), Unavailable when a read fails.
absl::StatusOr<std::string> Sha256HexOfFile(int fd, size_t max_bytes);

// FindRootKeys returns the names of the `files` (name, contents) that hold the private key
// of one of `roots`: an unencrypted key matching a root's public key, or an encrypted key
// whose name contains "root" (it cannot be compared without its passphrase).
std::vector<std::string> FindRootKeys(
    const std::vector<std::pair<std::string, absl::string_view>>& files,
    absl::Span<const Certificate> roots);

}  // namespace meshid::pki
