#include "meshid/pki/jwt.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "jose.h"
#include "nlohmann/json.hpp"

namespace meshid::pki {
namespace {

using json = nlohmann::json;
using internal::Base64UrlDecode;
using internal::Base64UrlEncode;
using internal::JwsAlgorithm;

// "nbf" may run this far ahead of our clock: clock skew between nodes (REFERENCE.md, #15).
constexpr absl::Duration kNotBeforeLeeway = absl::Minutes(1);

absl::Status Invalid(absl::string_view why) {
  return absl::InvalidArgumentError(absl::StrCat("JWT-SVID ", why));
}

// Dump renders `value` compactly; text that is not UTF-8 is InvalidArgument (nlohmann
// throws on it, and no exception leaves this module).
absl::StatusOr<std::string> Dump(const json& value) {
  try {
    return value.dump();
  } catch (const json::exception&) {
    return Invalid("text is not valid UTF-8");
  }
}

std::string TimeString(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// Jws is a compact JWS split into its parts, the signature decoded.
struct Jws {
  absl::string_view header_b64;
  absl::string_view payload_b64;
  absl::string_view signing_input;  // header_b64 "." payload_b64
  std::string signature;
};

absl::StatusOr<json> DecodeJsonObject(absl::string_view b64, absl::string_view what) {
  std::optional<std::string> text = Base64UrlDecode(b64);
  if (!text.has_value()) return Invalid(absl::StrCat(what, " is not canonical base64url"));
  json value = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) return Invalid(absl::StrCat(what, " is not valid JSON"));
  if (!value.is_object()) return Invalid(absl::StrCat(what, " is not a JSON object"));
  return value;
}

absl::StatusOr<Jws> SplitJws(absl::string_view token) {
  if (token.size() > kMaxJwtSvidBytes) {
    return Invalid(
        absl::StrCat("is ", token.size(), " bytes, more than the ", kMaxJwtSvidBytes, " allowed"));
  }
  std::vector<absl::string_view> parts = absl::StrSplit(token, '.');
  if (parts.size() != 3) {
    return Invalid(absl::StrCat("has ", parts.size(),
                                " dot-separated parts; a compact JWS has 3 (header, claims, "
                                "signature)"));
  }
  Jws jws;
  jws.header_b64 = parts[0];
  jws.payload_b64 = parts[1];
  jws.signing_input = token.substr(0, parts[0].size() + 1 + parts[1].size());
  std::optional<std::string> signature = Base64UrlDecode(parts[2]);
  if (!signature.has_value()) return Invalid("signature is not canonical base64url");
  jws.signature = *std::move(signature);
  return jws;
}

// CheckHeader returns the algorithm and sets `kid` when the header is acceptable.
absl::StatusOr<const JwsAlgorithm*> CheckHeader(absl::string_view header_b64, std::string& kid) {
  absl::StatusOr<json> decoded = DecodeJsonObject(header_b64, "header");
  if (!decoded.ok()) return decoded.status();
  const json& header = *decoded;
  auto alg = header.find("alg");
  if (alg == header.end() || !alg->is_string()) return Invalid("header has no \"alg\"");
  const JwsAlgorithm* algorithm = internal::FindJwsAlgorithm(alg->get<std::string>());
  if (algorithm == nullptr) {
    return Invalid(absl::StrCat("alg \"", alg->get<std::string>(), "\" is not allowed (",
                                internal::JwsAlgorithmNames(), " are)"));
  }
  auto kid_it = header.find("kid");
  if (kid_it == header.end() || !kid_it->is_string() || kid_it->get<std::string>().empty()) {
    return Invalid("header has no \"kid\"");
  }
  kid = kid_it->get<std::string>();
  if (auto typ = header.find("typ"); typ != header.end()) {
    if (!typ->is_string() || (*typ != "JWT" && *typ != "JOSE")) {
      return Invalid(absl::StrCat("header \"typ\" ", typ->dump(), R"( is not "JWT" or "JOSE")"));
    }
  }
  // RFC 7515 section 4.1.11: a recipient that does not understand a critical extension
  // must reject the JWS, and meshid understands none.
  if (header.contains("crit")) return Invalid("header has \"crit\" extensions");
  return algorithm;
}

// NumericDate reads an RFC 7519 NumericDate claim: seconds since the epoch, maybe fractional.
absl::StatusOr<std::optional<absl::Time>> NumericDate(const json& claims, const char* name) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  if (!it->is_number()) return Invalid(absl::StrCat("\"", name, "\" is not a number"));
  if (it->is_number_integer()) {
    // Exact for every signed value; unsigned ones beyond int64 are the far future anyway.
    if (it->is_number_unsigned() && it->get<uint64_t>() > INT64_MAX) return absl::InfiniteFuture();
    return absl::FromUnixSeconds(it->get<int64_t>());
  }
  double seconds = it->get<double>();
  if (!std::isfinite(seconds)) return Invalid(absl::StrCat("\"", name, "\" is not finite"));
  return absl::UnixEpoch() + absl::Seconds(seconds);
}

absl::StatusOr<std::vector<std::string>> Audience(const json& claims) {
  auto aud = claims.find("aud");
  if (aud == claims.end()) return Invalid("has no \"aud\" claim");
  std::vector<std::string> audience;
  if (aud->is_string()) {
    audience.push_back(aud->get<std::string>());
  } else if (aud->is_array()) {
    for (const json& entry : *aud) {
      if (!entry.is_string()) return Invalid("\"aud\" holds something other than strings");
      audience.push_back(entry.get<std::string>());
    }
  } else {
    return Invalid("\"aud\" is neither a string nor an array of strings");
  }
  if (audience.empty()) return Invalid("\"aud\" is empty");
  return audience;
}

// ReadClaims decodes the payload and reads the claims every JWT-SVID must carry.
absl::StatusOr<JwtSvid> ReadClaims(absl::string_view payload_b64) {
  absl::StatusOr<json> claims = DecodeJsonObject(payload_b64, "claims");
  if (!claims.ok()) return claims.status();
  auto sub = claims->find("sub");
  if (sub == claims->end() || !sub->is_string()) return Invalid("has no \"sub\" claim");
  absl::StatusOr<SpiffeId> subject = SpiffeId::Parse(sub->get<std::string>());
  if (!subject.ok()) return Invalid(absl::StrCat("\"sub\": ", subject.status().message()));
  absl::StatusOr<std::vector<std::string>> audience = Audience(*claims);
  if (!audience.ok()) return audience.status();
  absl::StatusOr<std::optional<absl::Time>> expiry = NumericDate(*claims, "exp");
  if (!expiry.ok()) return expiry.status();
  if (!expiry->has_value()) return Invalid("has no \"exp\" claim");
  absl::StatusOr<std::optional<absl::Time>> issued_at = NumericDate(*claims, "iat");
  if (!issued_at.ok()) return issued_at.status();
  absl::StatusOr<std::optional<absl::Time>> not_before = NumericDate(*claims, "nbf");
  if (!not_before.ok()) return not_before.status();
  return JwtSvid{
      .subject = *std::move(subject),
      .audience = *std::move(audience),
      .expiry = **expiry,
      .issued_at = *issued_at,
      .not_before = *not_before,
      // Parsed text is valid UTF-8, so this cannot throw.
      .claims_json = claims->dump(-1, ' ', false, json::error_handler_t::replace),
  };
}

// CheckAudienceAndTime applies the checks that depend on the caller: audience and now.
absl::Status CheckAudienceAndTime(const JwtSvid& svid, absl::string_view audience, absl::Time now) {
  if (std::find(svid.audience.begin(), svid.audience.end(), audience) == svid.audience.end()) {
    json listed = svid.audience;
    return Invalid(absl::StrCat("audience \"", audience, "\" not in ",
                                listed.dump(-1, ' ', false, json::error_handler_t::replace)));
  }
  if (now >= svid.expiry) {
    return Invalid(
        absl::StrCat("has expired (exp ", TimeString(svid.expiry), ", now ", TimeString(now), ")"));
  }
  if (svid.not_before.has_value() && *svid.not_before > now + kNotBeforeLeeway) {
    return Invalid(absl::StrCat("is not valid before ", TimeString(*svid.not_before), " (now ",
                                TimeString(now), ")"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> SignJwt(const PrivateKey& key, absl::string_view key_id,
                                    absl::string_view claims_json) {
  if (key_id.empty()) return Invalid("key ID is empty");
  absl::StatusOr<const JwsAlgorithm*> alg = internal::JwsAlgorithmForKey(key.public_key());
  if (!alg.ok()) return alg.status();
  json header = {{"alg", (*alg)->name}, {"kid", key_id}, {"typ", "JWT"}};
  absl::StatusOr<std::string> header_text = Dump(header);
  if (!header_text.ok()) return header_text.status();
  std::string token =
      absl::StrCat(Base64UrlEncode(*header_text), ".", Base64UrlEncode(claims_json));
  absl::StatusOr<std::string> signature = internal::JwsSign(key, **alg, token);
  if (!signature.ok()) return signature.status();
  absl::StrAppend(&token, ".", Base64UrlEncode(*signature));
  if (token.size() > kMaxJwtSvidBytes) {
    return Invalid(absl::StrCat("would be ", token.size(), " bytes, more than the ",
                                kMaxJwtSvidBytes, " allowed"));
  }
  return token;
}

absl::StatusOr<std::string> SignJwtSvid(const PrivateKey& key, absl::string_view key_id,
                                        const SpiffeId& subject,
                                        absl::Span<const std::string> audience,
                                        absl::Time issued_at, absl::Time expiry) {
  if (audience.empty()) return Invalid("needs at least one audience");
  for (const std::string& aud : audience) {
    if (aud.empty()) return Invalid("audience must not contain an empty string");
  }
  if (expiry <= issued_at) {
    return Invalid(absl::StrCat("expiry ", TimeString(expiry), " is not after issued_at ",
                                TimeString(issued_at)));
  }
  json claims = {{"sub", subject.ToString()},
                 {"aud", json(std::vector<std::string>(audience.begin(), audience.end()))},
                 {"exp", absl::ToUnixSeconds(expiry)},
                 {"iat", absl::ToUnixSeconds(issued_at)}};
  absl::StatusOr<std::string> claims_text = Dump(claims);
  if (!claims_text.ok()) return claims_text.status();
  return SignJwt(key, key_id, *claims_text);
}

absl::StatusOr<JwtSvid> ParseJwtSvidUnverified(absl::string_view token) {
  absl::StatusOr<Jws> jws = SplitJws(token);
  if (!jws.ok()) return jws.status();
  std::string kid;
  absl::StatusOr<const JwsAlgorithm*> alg = CheckHeader(jws->header_b64, kid);
  if (!alg.ok()) return alg.status();
  absl::StatusOr<JwtSvid> svid = ReadClaims(jws->payload_b64);
  if (!svid.ok()) return svid.status();
  svid->key_id = std::move(kid);
  svid->algorithm = std::string((*alg)->name);
  return svid;
}

absl::StatusOr<JwtSvid> ValidateJwtSvid(absl::string_view token, absl::string_view audience,
                                        absl::Span<const JwtAuthority> authorities,
                                        absl::Time now) {
  if (audience.empty()) return Invalid("validation needs an audience");
  absl::StatusOr<Jws> jws = SplitJws(token);
  if (!jws.ok()) return jws.status();
  std::string kid;
  absl::StatusOr<const JwsAlgorithm*> alg = CheckHeader(jws->header_b64, kid);
  if (!alg.ok()) return alg.status();
  const auto* authority = std::find_if(authorities.begin(), authorities.end(),
                                       [&kid](const JwtAuthority& a) { return a.key_id == kid; });
  if (authority == authorities.end()) {
    return Invalid(absl::StrCat("key ID \"", kid, "\" is not among the ", authorities.size(),
                                " JWT authorities of the trust domain"));
  }
  absl::Status verified =
      internal::JwsVerify(authority->key, **alg, jws->signing_input, jws->signature);
  if (!verified.ok()) return verified;
  absl::StatusOr<JwtSvid> svid = ReadClaims(jws->payload_b64);
  if (!svid.ok()) return svid.status();
  if (absl::Status checked = CheckAudienceAndTime(*svid, audience, now); !checked.ok()) {
    return checked;
  }
  svid->key_id = std::move(kid);
  svid->algorithm = std::string((*alg)->name);
  return svid;
}

}  // namespace meshid::pki
