#pragma once

// How the CLI shows a certificate to people (text) and to scripts (JSON).

#include <ostream>
#include <string>

#include "absl/time/time.h"
#include "meshid/pki/certificate.h"
#include "nlohmann/json.hpp"

namespace meshid::cli {

// Remaining describes the time left at `now`: "expires in 89d 4h" or "EXPIRED 3d ago" or
// "not valid for another 2h".
std::string Remaining(const pki::Certificate& cert, absl::Time now);

// DescribeJson returns every field `meshid x509 inspect` shows, as JSON.
nlohmann::json DescribeJson(const pki::Certificate& cert, absl::Time now);

// DescribeText writes the same fields as aligned "Label: value" lines, indented by two.
void DescribeText(std::ostream& out, const pki::Certificate& cert, absl::Time now);

// ShortName names a certificate in one printable phrase: its SPIFFE ID for a leaf, else its
// subject.
std::string ShortName(const pki::Certificate& cert);

}  // namespace meshid::cli
