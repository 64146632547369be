#include "meshid/pki/bundle.h"

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "jose.h"
#include "nlohmann/json.hpp"

namespace meshid::pki {
namespace {

using json = nlohmann::json;

constexpr absl::string_view kX509Use = "x509-svid";
constexpr absl::string_view kJwtUse = "jwt-svid";

// X509Jwk renders one X.509 authority as a JWK with the SPIFFE "x509-svid" use.
json X509Jwk(const Certificate& cert) {
  json jwk;
  internal::AddJwkKeyParams(cert.public_key(), jwk);
  jwk["use"] = kX509Use;
  jwk["x5c"] = json::array({absl::Base64Escape(cert.ToDer())});
  return jwk;
}

// JwkKeyId returns the "kid" of a JWK text, or "" when it has none.
std::string JwkKeyId(const std::string& jwk_text) {
  json jwk = json::parse(jwk_text, nullptr, /*allow_exceptions=*/false);
  if (!jwk.is_object()) return "";
  auto kid = jwk.find("kid");
  return kid != jwk.end() && kid->is_string() ? kid->get<std::string>() : "";
}

// ParseX509Jwk reads the authority of an "x509-svid" JWK, or says why the JWK must be
// ignored. Per X509-SVID section 6.2 only the first "x5c" value counts.
absl::StatusOr<Certificate> ParseX509Jwk(const json& jwk) {
  auto x5c = jwk.find("x5c");
  if (x5c == jwk.end() || !x5c->is_array() || x5c->empty()) {
    return absl::InvalidArgumentError("no \"x5c\" certificate");
  }
  if (!(*x5c)[0].is_string()) return absl::InvalidArgumentError("\"x5c\"[0] is not a string");
  std::string der;
  if (!absl::Base64Unescape((*x5c)[0].get<std::string>(), &der)) {
    return absl::InvalidArgumentError("\"x5c\"[0] is not valid base64");
  }
  absl::StatusOr<Certificate> cert = Certificate::FromDer(der);
  if (!cert.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("\"x5c\"[0]: ", cert.status().message()));
  }
  auto kty = jwk.find("kty");
  std::string algorithm = cert->public_key().info().algorithm;
  std::string expected = algorithm == "EC" || algorithm == "RSA" ? algorithm : "OKP";
  if (kty == jwk.end() || !kty->is_string() || kty->get<std::string>() != expected) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"kty\" does not match the certificate's ", algorithm, " key"));
  }
  return cert;
}

}  // namespace

absl::StatusOr<TrustBundle> TrustBundle::FromPem(const TrustDomain& trust_domain,
                                                 absl::string_view pem) {
  absl::StatusOr<std::vector<Certificate>> certs = ParseCertificates(pem);
  if (!certs.ok()) return certs.status();
  TrustBundle bundle(trust_domain);
  for (const Certificate& cert : *certs) {
    bundle.AddX509Authority(cert).IgnoreError();  // a duplicate is harmless
  }
  return bundle;
}

absl::StatusOr<TrustBundle> TrustBundle::FromSpiffeJson(const TrustDomain& trust_domain,
                                                        absl::string_view json_text) {
  json doc = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return absl::InvalidArgumentError("SPIFFE bundle: not valid JSON");
  if (!doc.is_object()) return absl::InvalidArgumentError("SPIFFE bundle: not a JSON object");
  auto keys = doc.find("keys");
  if (keys == doc.end() || !keys->is_array()) {
    return absl::InvalidArgumentError("SPIFFE bundle: \"keys\" must be an array");
  }
  TrustBundle bundle(trust_domain);
  if (auto seq = doc.find("spiffe_sequence"); seq != doc.end()) {
    if (!seq->is_number_unsigned()) {
      return absl::InvalidArgumentError(
          "SPIFFE bundle: \"spiffe_sequence\" must be a non-negative integer");
    }
    bundle.sequence_ = seq->get<uint64_t>();
  }
  if (auto hint = doc.find("spiffe_refresh_hint"); hint != doc.end()) {
    if (!hint->is_number_integer() || hint->get<int64_t>() < 0) {
      return absl::InvalidArgumentError(
          "SPIFFE bundle: \"spiffe_refresh_hint\" must be a non-negative integer of seconds");
    }
    bundle.refresh_hint_ = absl::Seconds(hint->get<int64_t>());
  }
  // The bundle spec has consumers ignore, not reject, a JWK they cannot use; say which.
  auto ignore = [&bundle](size_t i, absl::string_view why) {
    bundle.ignored_keys_.push_back(absl::StrCat("keys[", i, "] ignored: ", why));
  };
  for (size_t i = 0; i < keys->size(); ++i) {
    const json& jwk = (*keys)[i];
    auto use = jwk.is_object() ? jwk.find("use") : jwk.end();
    if (!jwk.is_object() || use == jwk.end() || !use->is_string()) {
      ignore(i, "no \"use\"");
    } else if (use->get<std::string>() == kX509Use) {
      absl::StatusOr<Certificate> cert = ParseX509Jwk(jwk);
      if (!cert.ok()) {
        ignore(i, cert.status().message());
        continue;
      }
      bundle.AddX509Authority(*cert).IgnoreError();  // a duplicate is harmless
    } else if (use->get<std::string>() == kJwtUse) {
      auto kid = jwk.find("kid");
      if (kid == jwk.end() || !kid->is_string() || kid->get<std::string>().empty()) {
        ignore(i, "a jwt-svid key without \"kid\"");
        continue;
      }
      bundle.jwt_authorities_.push_back(jwk.dump());
    } else {
      ignore(i, absl::StrCat("unknown \"use\" \"", use->get<std::string>(), "\""));
    }
  }
  return bundle;
}

std::string TrustBundle::ToPem() const { return pki::ToPem(x509_authorities_); }

std::string TrustBundle::ToSpiffeJson() const {
  json doc;
  doc["keys"] = json::array();
  for (const Certificate& cert : x509_authorities_) doc["keys"].push_back(X509Jwk(cert));
  for (const std::string& jwk : jwt_authorities_) {
    doc["keys"].push_back(json::parse(jwk, nullptr, false));
  }
  if (refresh_hint_.has_value()) {
    doc["spiffe_refresh_hint"] = absl::ToInt64Seconds(*refresh_hint_);
  }
  doc["spiffe_sequence"] = sequence_;
  return doc.dump(2) + "\n";
}

absl::Status TrustBundle::AddX509Authority(const Certificate& cert) {
  if (std::find(x509_authorities_.begin(), x509_authorities_.end(), cert) !=
      x509_authorities_.end()) {
    return absl::AlreadyExistsError(
        absl::StrCat("the bundle already holds \"", cert.subject(), "\""));
  }
  x509_authorities_.push_back(cert);
  return absl::OkStatus();
}

bool TrustBundle::RemoveX509Authority(const Certificate& cert) {
  auto it = std::find(x509_authorities_.begin(), x509_authorities_.end(), cert);
  if (it == x509_authorities_.end()) return false;
  x509_authorities_.erase(it);
  return true;
}

absl::Status TrustBundle::AddJwtAuthority(const JwtAuthority& authority) {
  for (const std::string& jwk : jwt_authorities_) {
    if (JwkKeyId(jwk) == authority.key_id) {
      return absl::AlreadyExistsError(absl::StrCat(
          "the bundle already holds a JWT authority with key ID \"", authority.key_id, "\""));
    }
  }
  // Write only what reads back the same, so the bundle never publishes a key it would skip.
  std::string jwk = JwkJson(authority);
  absl::StatusOr<JwtAuthority> again = JwtAuthorityFromJwk(jwk);
  if (!again.ok()) return again.status();
  if (again->key_id != authority.key_id) {
    return absl::InvalidArgumentError("JWT authority key ID is not valid UTF-8");
  }
  jwt_authorities_.push_back(std::move(jwk));
  return absl::OkStatus();
}

bool TrustBundle::RemoveJwtAuthority(absl::string_view key_id) {
  auto removed =
      std::remove_if(jwt_authorities_.begin(), jwt_authorities_.end(),
                     [key_id](const std::string& jwk) { return JwkKeyId(jwk) == key_id; });
  bool any = removed != jwt_authorities_.end();
  jwt_authorities_.erase(removed, jwt_authorities_.end());
  return any;
}

std::vector<JwtAuthority> TrustBundle::ParsedJwtAuthorities(
    std::vector<std::string>* ignored) const {
  std::vector<JwtAuthority> authorities;
  for (size_t i = 0; i < jwt_authorities_.size(); ++i) {
    absl::StatusOr<JwtAuthority> authority = JwtAuthorityFromJwk(jwt_authorities_[i]);
    if (authority.ok()) {
      authorities.push_back(*std::move(authority));
    } else if (ignored != nullptr) {
      ignored->push_back(absl::StrCat("jwt_authorities[", i, "] (kid \"",
                                      JwkKeyId(jwt_authorities_[i]),
                                      "\") ignored: ", authority.status().message()));
    }
  }
  return authorities;
}

}  // namespace meshid::pki
