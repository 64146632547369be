#include "describe.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "meshid/base/duration.h"
#include "meshid/base/text.h"

namespace meshid::cli {

using nlohmann::json;

std::string Remaining(const pki::Certificate& cert, absl::Time now) {
  if (now < cert.not_before()) {
    return absl::StrCat("NOT YET VALID for another ", base::HumanDuration(cert.not_before() - now));
  }
  if (now > cert.not_after()) {
    return absl::StrCat("EXPIRED ", base::HumanDuration(now - cert.not_after()), " ago");
  }
  return absl::StrCat("expires in ", base::HumanDuration(cert.not_after() - now));
}

std::string ShortName(const pki::Certificate& cert) {
  if (!cert.is_ca()) {
    std::vector<std::string> uris = cert.uri_sans();
    if (uris.size() == 1) return base::Printable(uris.front());
  }
  std::string subject = cert.subject();
  return subject.empty() ? absl::StrCat("serial ", cert.serial_hex()) : base::Printable(subject);
}

json DescribeJson(const pki::Certificate& cert, absl::Time now) {
  pki::KeyUsage ku = cert.key_usage();
  pki::ExtendedKeyUsage eku = cert.extended_key_usage();
  pki::PublicKeyInfo key = cert.public_key().info();
  absl::StatusOr<pki::SpiffeId> id = cert.spiffe_id();
  json doc = {
      {"subject", cert.subject()},
      {"issuer", cert.issuer()},
      {"serial", cert.serial_hex()},
      {"not_before", base::Rfc3339(cert.not_before())},
      {"not_after", base::Rfc3339(cert.not_after())},
      {"seconds_remaining", absl::ToInt64Seconds(cert.not_after() - now)},
      {"valid_now", cert.IsValidAt(now)},
      {"spiffe_id", id.ok() ? json(id->ToString()) : json(nullptr)},
      {"uri_sans", cert.uri_sans()},
      {"dns_sans", cert.dns_sans()},
      {"key",
       {{"algorithm", key.algorithm},
        {"curve", key.curve},
        {"bits", key.bits},
        {"weak", key.weak}}},
      {"signature_algorithm", cert.signature_algorithm()},
      {"key_usage",
       ku.present ? json({{"critical", ku.critical}, {"usages", ku.Names()}}) : json(nullptr)},
      {"extended_key_usage", eku.present ? json(eku.names) : json(nullptr)},
      {"is_ca", cert.is_ca()},
      {"path_len", cert.path_len().has_value() ? json(*cert.path_len()) : json(nullptr)},
      {"self_signed", cert.IsSelfSigned()},
      {"subject_key_id", cert.subject_key_id()},
      {"authority_key_id", cert.authority_key_id()},
      {"sha256_fingerprint", cert.sha256_fingerprint()},
  };
  return doc;
}

void DescribeText(std::ostream& out, const pki::Certificate& cert, absl::Time now) {
  auto line = [&out](absl::string_view label, absl::string_view value) {
    out << "  " << label << std::string(16 - label.size(), ' ')
        << (value.empty() ? "-" : base::Printable(value)) << "\n";
  };
  auto join = [](const std::vector<std::string>& v) { return absl::StrJoin(v, ", "); };
  pki::KeyUsage ku = cert.key_usage();
  pki::ExtendedKeyUsage eku = cert.extended_key_usage();
  absl::StatusOr<pki::SpiffeId> id = cert.spiffe_id();
  std::string subject = cert.subject();
  line("Subject:", subject.empty() ? "(empty)" : subject);
  line("Issuer:", cert.issuer());
  line("Serial:", cert.serial_hex());
  line("Not before:", base::Rfc3339(cert.not_before()));
  line("Not after:",
       absl::StrCat(base::Rfc3339(cert.not_after()), "  (", Remaining(cert, now), ")"));
  line("SPIFFE ID:", id.ok() ? id->ToString() : join(cert.uri_sans()));
  line("DNS names:", join(cert.dns_sans()));
  pki::PublicKeyInfo key = cert.public_key().info();
  line("Public key:", key.Describe() + (key.weak ? "  (WEAK)" : ""));
  line("Signature:", cert.signature_algorithm() + (cert.weak_signature() ? "  (WEAK)" : ""));
  line("Key usage:",
       ku.present ? absl::StrCat(join(ku.Names()), ku.critical ? " (critical)" : "") : "");
  line("Ext key usage:", eku.present ? join(eku.names) : "");
  std::string bc = cert.is_ca() ? "CA:true" : "CA:false";
  if (cert.path_len().has_value()) absl::StrAppend(&bc, ", pathlen:", *cert.path_len());
  if (cert.IsSelfSigned()) absl::StrAppend(&bc, " (self-signed root)");
  line("Basic:", bc);
  line("Subject key ID:", cert.subject_key_id());
  line("Auth. key ID:", cert.authority_key_id());
  line("SHA-256:", cert.sha256_fingerprint());
}

}  // namespace meshid::cli
