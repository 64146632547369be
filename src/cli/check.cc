#include "check.h"

#include <algorithm>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "describe.h"
#include "meshid/base/duration.h"
#include "meshid/pki/verify.h"

namespace meshid::cli {
namespace {

using pki::Certificate;

bool Contains(const std::vector<Certificate>& certs, const Certificate& cert) {
  return std::find(certs.begin(), certs.end(), cert) != certs.end();
}

std::string GroupOf(const Certificate& cert, Level level) {
  static constexpr const char* kTitles[] = {"root CA", "intermediate CA", "issuing CA", "leaf"};
  return absl::StrCat(kTitles[static_cast<int>(level)], " \"", ShortName(cert), "\"");
}

// A path failure caused only by strength is reported by the strength checks instead.
bool IsStrengthError(pki::ChainError error) {
  return error == pki::ChainError::kWeakKey || error == pki::ChainError::kWeakSignature;
}

class Checker {
 public:
  Checker(const CheckInput& in, const Thresholds& thresholds, absl::Time now)
      : in_(in), thresholds_(thresholds), now_(now) {}

  std::vector<CheckResult> Run() {
    CollectCas();
    CheckBundle();
    for (const Certificate& root : in_.bundle) CheckCertificate(root, Level::kRoot, CasBelowRoot());
    for (const Certificate& root : stray_roots_)
      CheckCertificate(root, Level::kRoot, CasBelowRoot());
    for (size_t i = cas_.size(); i-- > 0;) {
      CheckCertificate(cas_[i], levels_[i], static_cast<int>(i) + extra_);
    }
    if (!in_.ca_chain.empty()) CheckCaChain();
    CheckKeys();
    if (!in_.leaf_chain.empty()) CheckLeaf();
    return std::move(results_);
  }

 private:
  void Add(const std::string& group, std::string name, CheckStatus status, std::string detail) {
    results_.push_back({group, std::move(name), status, std::move(detail)});
  }

  // CollectCas lists the non-root CAs lowest first: issuing CAs presented with the leaf,
  // then the CA chain. Roots (self-signed, or in the bundle) are checked as roots.
  void CollectCas() {
    std::vector<Certificate> lower;
    for (size_t i = 1; i < in_.leaf_chain.size(); ++i) {
      const Certificate& c = in_.leaf_chain[i];
      if (!Contains(in_.ca_chain, c)) lower.push_back(c);
    }
    for (const Certificate& c : lower) {
      AddCa(c, c.lifetime() <= kIssuingMaxLifetime ? Level::kIssuing : Level::kIntermediate);
    }
    for (const Certificate& c : in_.ca_chain) AddCa(c, Level::kIntermediate);
    // A leaf shows how many CA levels really sit below the CA chain: those it came with, or
    // none when the CA signed it directly. Without a leaf, assume the CA server's own.
    bool leaf_shows_levels =
        !in_.ca_chain.empty() && !in_.leaf_chain.empty() &&
        (!lower.empty() || in_.leaf_chain.front().IsIssuedBy(in_.ca_chain.front()));
    extra_ = leaf_shows_levels ? 0 : in_.levels_below_ca;
  }

  void AddCa(const Certificate& c, Level level) {
    if (Contains(in_.bundle, c) || Contains(cas_, c) || Contains(stray_roots_, c)) return;
    if (c.is_ca() && c.IsSelfSigned()) {
      stray_roots_.push_back(c);
      return;
    }
    cas_.push_back(c);
    levels_.push_back(level);
  }

  int CasBelowRoot() const { return static_cast<int>(cas_.size()) + extra_; }

  void CheckBundle() {
    const std::string group = "trust bundle";
    if (in_.bundle.empty()) {
      Add(group, "bundle.present", CheckStatus::kFail,
          "no trust bundle: give --bundle, or a directory or Secret that holds the roots");
      return;
    }
    std::vector<std::string> not_roots;
    for (const Certificate& c : in_.bundle) {
      if (!c.is_ca() || !c.IsSelfSigned()) not_roots.push_back(ShortName(c));
    }
    if (not_roots.empty()) {
      Add(group, "bundle.roots_only", CheckStatus::kOk,
          absl::StrCat(in_.bundle.size(), " self-signed root(s)"));
    } else {
      Add(group, "bundle.roots_only", CheckStatus::kFail,
          absl::StrCat("holds certificates that are not self-signed roots: \"",
                       absl::StrJoin(not_roots, "\", \""),
                       "\"; a bundle must hold roots only, or every rotation of those CAs "
                       "becomes a bundle change"));
    }
    std::set<std::string> domains;
    for (const Certificate& c : in_.bundle) {
      absl::StatusOr<pki::SpiffeId> id = c.spiffe_id();
      if (id.ok()) domains.insert(id->trust_domain().name());
    }
    if (domains.size() > 1) {
      Add(group, "bundle.single_trust_domain", CheckStatus::kFail,
          absl::StrCat("roots of several trust domains (", absl::StrJoin(domains, ", "),
                       "): keep one bundle per trust domain and federate the others"));
    } else {
      Add(group, "bundle.single_trust_domain", CheckStatus::kOk,
          domains.empty() ? "the roots carry no SPIFFE ID; nothing to compare"
                          : absl::StrCat("trust domain ", *domains.begin()));
    }
  }

  // CheckCertificate runs the per-certificate checks of a CA at `level`; `cas_below` is how
  // many CA levels sit under it.
  void CheckCertificate(const Certificate& cert, Level level, int cas_below) {
    std::string group = GroupOf(cert, level);
    std::string prefix(LevelName(level));
    if (CheckValidity(group, prefix, cert)) CheckLifetime(group, prefix, cert, level);
    CheckCaConstraints(group, prefix, cert, cas_below);
    CheckStrength(group, prefix, cert);
    if (level != Level::kRoot) CheckWithinIssuer(group, prefix, cert);
  }

  // CheckValidity reports whether `cert` is within its validity period.
  bool CheckValidity(const std::string& group, const std::string& prefix, const Certificate& cert) {
    std::string name = absl::StrCat(prefix, ".validity");
    if (now_ < cert.not_before()) {
      Add(group, name, CheckStatus::kFail,
          absl::StrCat("not valid until ", base::Rfc3339(cert.not_before()),
                       " (issued in the future, or this clock is behind)"));
      return false;
    }
    if (now_ > cert.not_after()) {
      Add(group, name, CheckStatus::kFail,
          absl::StrCat("EXPIRED at ", base::Rfc3339(cert.not_after()), ", ",
                       base::HumanDuration(now_ - cert.not_after()), " ago"));
      return false;
    }
    Add(group, name, CheckStatus::kOk,
        absl::StrCat("valid from ", base::Rfc3339(cert.not_before()), " to ",
                     base::Rfc3339(cert.not_after())));
    return true;
  }

  void CheckLifetime(const std::string& group, const std::string& prefix, const Certificate& cert,
                     Level level) {
    const LevelThresholds& t = thresholds_.For(level);
    absl::Duration remaining = cert.not_after() - now_;
    absl::Duration warn = t.warn.For(cert.lifetime());
    absl::Duration critical = t.critical.For(cert.lifetime());
    std::string left = absl::StrCat("expires in ", base::HumanDuration(remaining), " (",
                                    base::Rfc3339(cert.not_after()), ")");
    std::string name = absl::StrCat(prefix, ".lifetime");
    if (remaining < critical) {
      Add(group, name, CheckStatus::kFail,
          absl::StrCat(left, ", below the critical threshold of ", base::HumanDuration(critical),
                       ": rotate it now"));
    } else if (remaining < warn) {
      Add(group, name, CheckStatus::kWarn,
          absl::StrCat(left, ", below the warning threshold of ", base::HumanDuration(warn),
                       ": plan its rotation"));
    } else {
      Add(group, name, CheckStatus::kOk, left);
    }
  }

  void CheckCaConstraints(const std::string& group, const std::string& prefix,
                          const Certificate& cert, int cas_below) {
    std::vector<std::string> problems;
    if (!cert.is_ca()) problems.emplace_back("it is not a CA (basicConstraints CA:true missing)");
    pki::KeyUsage ku = cert.key_usage();
    if (!ku.present) {
      problems.emplace_back("it has no keyUsage");
    } else {
      if (!ku.key_cert_sign) problems.emplace_back("its keyUsage lacks keyCertSign");
      if (!ku.critical) problems.emplace_back("its keyUsage is not critical");
    }
    std::optional<int> len = cert.path_len();
    if (len.has_value() && *len < cas_below) {
      problems.push_back(absl::StrCat("pathlen ", *len, " allows ", *len,
                                      " CA level(s) below it, but the hierarchy needs ",
                                      cas_below));
    }
    std::string name = absl::StrCat(prefix, ".constraints");
    if (!problems.empty()) {
      Add(group, name, CheckStatus::kFail, absl::StrJoin(problems, "; "));
      return;
    }
    Add(group, name, CheckStatus::kOk,
        absl::StrCat("CA, keyCertSign, ",
                     len.has_value() ? absl::StrCat("pathlen ", *len) : "no pathlen limit", " (",
                     cas_below, " CA level(s) below)"));
  }

  void CheckStrength(const std::string& group, const std::string& prefix, const Certificate& cert) {
    pki::PublicKeyInfo key = cert.public_key().info();
    std::string name = absl::StrCat(prefix, ".strength");
    if (key.weak) {
      Add(group, name, CheckStatus::kFail,
          absl::StrCat("weak ", key.Describe(), " key (minimum RSA 2048 or EC P-256)"));
    } else if (cert.weak_signature() && !cert.IsSelfSigned()) {
      Add(group, name, CheckStatus::kFail,
          absl::StrCat("signed with ", cert.signature_algorithm(), " (SHA-1 and MD5 are broken)"));
    } else {
      Add(group, name, CheckStatus::kOk,
          absl::StrCat(key.Describe(), ", ", cert.signature_algorithm()));
    }
  }

  std::optional<Certificate> FindIssuer(const Certificate& cert) const {
    for (const std::vector<Certificate>* set : {&in_.bundle, &cas_, &stray_roots_}) {
      for (const Certificate& c : *set) {
        if (!(c == cert) && cert.IsIssuedBy(c)) return c;
      }
    }
    return std::nullopt;
  }

  void CheckWithinIssuer(const std::string& group, const std::string& prefix,
                         const Certificate& cert) {
    std::optional<Certificate> issuer = FindIssuer(cert);
    if (!issuer.has_value()) return;  // the chain checks report a missing issuer
    std::string name = absl::StrCat(prefix, ".outlives_issuer");
    if (cert.not_after() > issuer->not_after()) {
      Add(group, name, CheckStatus::kFail,
          absl::StrCat("expires ", base::Rfc3339(cert.not_after()), ", after its issuer \"",
                       ShortName(*issuer), "\" (", base::Rfc3339(issuer->not_after()),
                       "): it stops verifying when the issuer expires; reissue it within the "
                       "issuer's lifetime"));
    } else {
      Add(group, name, CheckStatus::kOk,
          absl::StrCat("ends within its issuer's lifetime (", base::Rfc3339(issuer->not_after()),
                       ")"));
    }
  }

  void CheckCaChain() {
    const std::string group = "chain";
    Certificate current = in_.ca_chain.front();
    std::vector<Certificate> seen;
    while (!Contains(in_.bundle, current)) {
      if (Contains(seen, current)) {
        Add(group, "chain.complete", CheckStatus::kFail,
            absl::StrCat("the chain loops back to \"", ShortName(current),
                         "\" without reaching a root in the bundle"));
        return CheckChainTrusted(group);
      }
      seen.push_back(current);
      std::optional<Certificate> issuer = FindIssuer(current);
      if (!issuer.has_value()) {
        Add(group, "chain.complete", CheckStatus::kFail,
            absl::StrCat("missing intermediate: the issuer \"", current.issuer(), "\" of \"",
                         ShortName(current),
                         "\" is neither in the chain nor a root in the bundle; peers will "
                         "fail the handshake"));
        return CheckChainTrusted(group);
      }
      current = *issuer;
    }
    Add(group, "chain.complete", CheckStatus::kOk,
        absl::StrCat(in_.ca_chain.size(), " CA certificate(s) up to root \"", ShortName(current),
                     "\""));
    CheckChainTrusted(group);
  }

  void CheckChainTrusted(const std::string& group) {
    pki::VerifyResult result = pki::VerifyCaChain(in_.ca_chain, in_.bundle, now_);
    if (result.ok() || IsStrengthError(result.error())) {
      Add(group, "chain.trusted", CheckStatus::kOk, "the CA verifies against the bundle");
    } else {
      Add(group, "chain.trusted", CheckStatus::kFail,
          absl::StrCat(pki::ChainErrorName(result.error()), ": ", result.detail()));
    }
  }

  void CheckKeys() {
    if (!in_.ca_key.has_value() && in_.ca_chain.empty()) return;
    const std::string group = "keys";
    if (in_.ca_key.has_value()) {
      const std::vector<Certificate>& owner_set = in_.ca_chain.empty() ? in_.bundle : in_.ca_chain;
      if (!owner_set.empty()) {
        const Certificate& owner = owner_set.front();
        if (in_.ca_key->Matches(owner.public_key())) {
          Add(group, "key.matches_ca", CheckStatus::kOk,
              absl::StrCat(in_.ca_key_source, " belongs to \"", ShortName(owner), "\""));
        } else {
          Add(group, "key.matches_ca", CheckStatus::kFail,
              absl::StrCat(in_.ca_key_source, " does not belong to \"", ShortName(owner),
                           "\": the CA cannot sign anything that verifies"));
        }
      }
    }
    if (in_.ca_chain.empty()) return;
    std::optional<Certificate> own_root;
    for (const Certificate& root : in_.bundle) {
      if (in_.ca_key.has_value() && in_.ca_key->Matches(root.public_key())) own_root = root;
    }
    if (own_root.has_value()) {
      Add(group, "root_key.offline", CheckStatus::kFail,
          absl::StrCat("the online CA key ", in_.ca_key_source, " is the private key of root \"",
                       ShortName(*own_root),
                       "\": keep the root offline and give the CA an intermediate (meshid pki "
                       "intermediate)"));
    } else if (!in_.root_keys_beside_ca_key.empty()) {
      Add(group, "root_key.offline", CheckStatus::kFail,
          absl::StrCat("a root private key sits next to the online CA key (",
                       absl::StrJoin(in_.root_keys_beside_ca_key, ", "),
                       "): move it to offline storage; anyone who reads it can mint any "
                       "identity"));
    } else if (!in_.root_keys_in_tree.empty()) {
      Add(group, "root_key.offline", CheckStatus::kWarn,
          absl::StrCat(absl::StrJoin(in_.root_keys_in_tree, ", "),
                       " holds the root private key: move it offline before the CA "
                       "directory goes to a server"));
    } else {
      Add(group, "root_key.offline", CheckStatus::kOk, "no root private key beside the CA key");
    }
  }

  void CheckLeaf() {
    const Certificate& leaf = in_.leaf_chain.front();
    std::string group = GroupOf(leaf, Level::kLeaf);
    if (CheckValidity(group, "leaf", leaf)) CheckLifetime(group, "leaf", leaf, Level::kLeaf);
    std::optional<pki::VerifyResult> bad =
        pki::CheckSvidProfile(leaf, pki::Usage::kClientAndServer);
    if (!bad.has_value()) bad = pki::CheckSvidIssuanceProfile(leaf);
    if (!bad.has_value()) bad = TrustDomainMismatch(leaf);
    if (bad.has_value()) {
      Add(group, "leaf.svid", CheckStatus::kFail,
          absl::StrCat(pki::ChainErrorName(bad->error()), ": ", bad->detail()));
    } else {
      Add(group, "leaf.svid", CheckStatus::kOk,
          "conforms to X509-SVID (one SPIFFE ID, CA:false, keyUsage critical digitalSignature, "
          "serverAuth + clientAuth)");
    }
    CheckStrength(group, "leaf", leaf);
    pki::VerifyResult path = pki::VerifyCaChain(in_.leaf_chain, in_.bundle, now_);
    if (path.ok() || IsStrengthError(path.error())) {
      Add(group, "leaf.chain", CheckStatus::kOk, "the presented chain verifies against the bundle");
    } else {
      Add(group, "leaf.chain", CheckStatus::kFail,
          absl::StrCat(pki::ChainErrorName(path.error()), ": ", path.detail()));
    }
  }

  std::optional<pki::VerifyResult> TrustDomainMismatch(const Certificate& leaf) const {
    absl::StatusOr<pki::SpiffeId> id = leaf.spiffe_id();
    if (!id.ok()) return std::nullopt;
    for (const Certificate& root : in_.bundle) {
      absl::StatusOr<pki::SpiffeId> root_id = root.spiffe_id();
      if (root_id.ok() && root_id->trust_domain() != id->trust_domain()) {
        return pki::VerifyResult::Fail(
            pki::ChainError::kTrustDomainMismatch,
            absl::StrCat("the leaf is in \"", id->trust_domain().name(), "\", the bundle in \"",
                         root_id->trust_domain().name(), "\""));
      }
    }
    return std::nullopt;
  }

  const CheckInput& in_;
  const Thresholds& thresholds_;
  absl::Time now_;
  std::vector<Certificate> cas_;          // non-root CAs, lowest first
  std::vector<Level> levels_;             // the level of each of cas_
  std::vector<Certificate> stray_roots_;  // self-signed CAs presented but not in the bundle
  int extra_ = 0;                         // CA levels minted below the lowest CA given
  std::vector<CheckResult> results_;
};

}  // namespace

absl::string_view CheckStatusName(CheckStatus status) {
  switch (status) {
    case CheckStatus::kOk:
      return "ok";
    case CheckStatus::kWarn:
      return "warn";
    case CheckStatus::kFail:
      return "fail";
  }
  return "fail";
}

absl::string_view LevelName(Level level) {
  switch (level) {
    case Level::kRoot:
      return "root";
    case Level::kIntermediate:
      return "intermediate";
    case Level::kIssuing:
      return "issuing";
    case Level::kLeaf:
      return "leaf";
  }
  return "leaf";
}

absl::Duration Threshold::For(absl::Duration lifetime) const {
  absl::Duration limit = absl::InfiniteDuration();
  if (absolute.has_value()) limit = *absolute;
  if (fraction.has_value()) limit = std::min(limit, lifetime * *fraction);
  return limit == absl::InfiniteDuration() ? absl::ZeroDuration() : limit;
}

std::string Threshold::ToString() const {
  std::vector<std::string> parts;
  if (absolute.has_value()) parts.push_back(base::HumanDuration(*absolute));
  if (fraction.has_value()) parts.push_back(absl::StrCat(*fraction * 100, "% of lifetime"));
  return absl::StrJoin(parts, " or ");
}

absl::StatusOr<Threshold> ParseThreshold(absl::string_view text) {
  Threshold t;
  if (absl::ConsumeSuffix(&text, "%")) {
    double percent = 0;
    // Written so that NaN fails too.
    if (!absl::SimpleAtod(text, &percent) || !(percent > 0 && percent < 100)) {
      return absl::InvalidArgumentError(
          absl::StrCat("threshold \"", text, "%\" must be a percentage between 0 and 100"));
    }
    t.fraction = percent / 100;
    return t;
  }
  absl::StatusOr<absl::Duration> d = base::ParseDuration(text);
  if (!d.ok()) return d.status();
  t.absolute = *d;
  return t;
}

Thresholds Thresholds::Defaults() {
  auto both = [](absl::Duration d, double fraction) { return Threshold{d, fraction}; };
  auto days = [](int n) { return Threshold{absl::Hours(24 * n), std::nullopt}; };
  constexpr double kHalf = 1.0 / 2;
  constexpr double kThird = 1.0 / 3;
  constexpr double kSixth = 1.0 / 6;
  Thresholds t;
  t.root = {days(730), days(180)};
  t.intermediate = {days(180), days(30)};
  t.issuing = {both(absl::Hours(24 * 30), kThird), both(absl::Hours(24 * 7), kSixth)};
  t.leaf = {both(absl::Hours(4), kHalf), both(absl::Hours(1), kSixth)};
  return t;
}

LevelThresholds& Thresholds::For(Level level) {
  switch (level) {
    case Level::kRoot:
      return root;
    case Level::kIntermediate:
      return intermediate;
    case Level::kIssuing:
      return issuing;
    case Level::kLeaf:
      return leaf;
  }
  return leaf;
}

const LevelThresholds& Thresholds::For(Level level) const {
  return const_cast<Thresholds*>(this)->For(level);
}

std::vector<CheckResult> RunChecks(const CheckInput& input, const Thresholds& thresholds,
                                   absl::Time now) {
  return Checker(input, thresholds, now).Run();
}

CheckStatus Worst(const std::vector<CheckResult>& results) {
  CheckStatus worst = CheckStatus::kOk;
  for (const CheckResult& r : results) worst = std::max(worst, r.status);
  return worst;
}

}  // namespace meshid::cli
