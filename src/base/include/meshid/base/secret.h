#pragma once

#include <string>
#include <utility>

#include "absl/strings/string_view.h"

namespace meshid::base {

// SecureZero overwrites `size` bytes at `data` in a way the compiler may not elide.
void SecureZero(void* data, size_t size);

// SecretString holds key material or a passphrase and wipes it when destroyed. It is
// move-only so that secrets are not copied by accident.
class SecretString {
 public:
  SecretString() = default;
  explicit SecretString(std::string value) : value_(std::move(value)) {}
  // Copies `value` straight into the secret, with no intermediate buffer left unwiped.
  explicit SecretString(absl::string_view value) : value_(value.data(), value.size()) {}
  explicit SecretString(const char* value) : SecretString(absl::string_view(value)) {}
  SecretString(const SecretString&) = delete;
  SecretString& operator=(const SecretString&) = delete;
  SecretString(SecretString&& other) noexcept : value_(std::move(other.value_)) { other.Clear(); }
  SecretString& operator=(SecretString&& other) noexcept {
    if (this != &other) {
      Clear();
      value_ = std::move(other.value_);
      other.Clear();
    }
    return *this;
  }
  ~SecretString() { Clear(); }

  absl::string_view view() const { return value_; }
  bool empty() const { return value_.empty(); }
  size_t size() const { return value_.size(); }

  // Clear wipes every byte the buffer holds, up to its capacity: after a move, a short
  // string's inline buffer may still hold the secret while its size is already 0.
  void Clear() {
    value_.resize(value_.capacity());
    SecureZero(value_.data(), value_.size());
    value_.clear();
  }

 private:
  std::string value_;
};

}  // namespace meshid::base
