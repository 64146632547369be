#pragma once

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace meshid::pki {

// OpenSslError returns a status with `code` whose message names the OpenSSL `call` that
// failed followed by every entry drained from the thread's OpenSSL error queue, on one line:
// "X509_sign failed: error:...; error:...". The queue is empty afterwards.
absl::Status OpenSslError(absl::string_view call,
                          absl::StatusCode code = absl::StatusCode::kInternal);

// ClearOpenSslErrors empties the thread's error queue after a failure that was expected and
// handled (a trial parse, for instance).
void ClearOpenSslErrors();

}  // namespace meshid::pki
