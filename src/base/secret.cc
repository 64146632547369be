#include "meshid/base/secret.h"

#include <string.h>

namespace meshid::base {

void SecureZero(void* data, size_t size) {
  if (data != nullptr && size > 0) {
    explicit_bzero(data, size);
  }
}

}  // namespace meshid::base
