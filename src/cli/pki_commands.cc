// meshid pki: the offline work on the operator's workstation.

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "describe.h"
#include "io.h"
#include "material.h"
#include "meshid/base/duration.h"
#include "meshid/base/files.h"
#include "meshid/base/status.h"
#include "meshid/base/text.h"
#include "meshid/pki/csr.h"
#include "meshid/pki/issue.h"
#include "meshid/pki/verify.h"

namespace meshid::cli {
namespace {

using nlohmann::json;

constexpr char kRootName[] = "meshid root CA";
constexpr char kEnvironmentName[] = "meshid environment CA";
constexpr char kIntermediateName[] = "meshid intermediate CA";

// An intermediate signs the CA server's issuing CAs, which sign leaves: pathlen 1.
constexpr int kIntermediatePathLen = 1;
constexpr int kEnvironmentPathLen = 2;

struct Written {
  std::string path;
  std::string what;
};

// StageCaDirectory adds the CA directory layout (ca.crt, ca.key, chain.pem, bundle.pem) of
// `chain.front()` to `files`.
absl::Status StageCaDirectory(base::StagedFiles& files, std::vector<Written>& written,
                              const std::string& dir, const pki::PrivateKey& key,
                              const std::vector<pki::Certificate>& chain,
                              const std::vector<pki::Certificate>& roots, absl::string_view label) {
  MESHID_ASSIGN_OR_RETURN(base::SecretString key_pem, key.ToPkcs8Pem());
  files.Add(JoinPath(dir, "ca.crt"), chain.front().ToPem(), 0644);
  files.AddSecret(JoinPath(dir, "ca.key"), std::move(key_pem));
  files.Add(JoinPath(dir, "chain.pem"), pki::ToPem(chain), 0644);
  files.Add(JoinPath(dir, "bundle.pem"), pki::ToPem(roots), 0644);
  written.push_back({JoinPath(dir, "ca.crt"), absl::StrCat(label, " certificate")});
  written.push_back({JoinPath(dir, "ca.key"), absl::StrCat(label, " private key (0600)")});
  written.push_back({JoinPath(dir, "chain.pem"), absl::StrCat(label, " chain, root excluded")});
  written.push_back({JoinPath(dir, "bundle.pem"), "trust bundle (the root)"});
  return absl::OkStatus();
}

absl::Status Commit(base::StagedFiles& files, bool force) {
  if (!force) MESHID_RETURN_IF_ERROR(files.CheckNoneExist());
  return files.Commit(/*overwrite=*/force);
}

void PrintWritten(Io& io, const std::vector<Written>& written) {
  size_t width = 0;
  for (const Written& w : written) width = std::max(width, w.path.size());
  for (const Written& w : written) {
    io.out << "  " << w.path << std::string(width - w.path.size() + 2, ' ') << w.what << "\n";
  }
}

json WrittenJson(const std::vector<Written>& written) {
  json files = json::array();
  for (const Written& w : written) files.push_back({{"path", w.path}, {"what", w.what}});
  return files;
}

// KeyGenNotice tells the operator why the command pauses: large RSA keys take seconds.
void KeyGenNotice(Io& io, pki::KeyType type, int count) {
  if (type == pki::KeyType::kRsa3072 || type == pki::KeyType::kRsa4096) {
    io.err << "generating " << count << " " << pki::KeyTypeName(type)
           << " key(s); this can take a few seconds...\n";
  }
}

// NoteIfCut tells the operator when the TTL asked for `what` was cut to end with its issuer,
// and reports whether it was.
bool NoteIfCut(Io& io, absl::string_view what, absl::Time now, absl::Duration ttl,
               const pki::Certificate& issuer) {
  if (now + ttl <= issuer.not_after()) return false;
  io.err << "note: the " << what << "'s TTL was cut to end with its issuer ("
         << base::Rfc3339(issuer.not_after()) << "); a certificate never outlives its issuer\n";
  return true;
}

absl::Status CheckDnsNames(const std::vector<std::string>& names) {
  for (const std::string& dns : names) {
    if (!pki::IsValidDnsName(dns)) {
      return absl::InvalidArgumentError(absl::StrCat("--dns: invalid DNS name \"", dns, "\""));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<absl::Duration> ParseTtl(const std::string& flag, const std::string& value) {
  absl::StatusOr<absl::Duration> d = base::ParseDuration(value);
  if (!d.ok()) return base::Annotate(d.status(), flag);
  if (*d <= absl::ZeroDuration())
    return absl::InvalidArgumentError(absl::StrCat(flag, ": must be positive"));
  return d;
}

// ---- pki init ----

struct InitOptions {
  std::string trust_domain;
  std::string out;
  int tiers = 2;
  std::string key_type = "ec-p256";
  std::string root_ttl = "87600h";
  std::string environment_ttl = "43800h";
  std::string intermediate_ttl = "8760h";
  bool encrypt_root_key = false;
  std::string passphrase_file;
  bool force = false;
  bool json = false;
};

absl::Status RunInit(Io& io, const InitOptions& o) {
  MESHID_ASSIGN_OR_RETURN(pki::TrustDomain td, pki::TrustDomain::Parse(o.trust_domain));
  MESHID_ASSIGN_OR_RETURN(pki::KeyType key_type, pki::ParseKeyType(o.key_type));
  MESHID_ASSIGN_OR_RETURN(absl::Duration root_ttl, ParseTtl("--root-ttl", o.root_ttl));
  MESHID_ASSIGN_OR_RETURN(absl::Duration env_ttl, ParseTtl("--environment-ttl", o.environment_ttl));
  MESHID_ASSIGN_OR_RETURN(absl::Duration int_ttl,
                          ParseTtl("--intermediate-ttl", o.intermediate_ttl));
  if (o.encrypt_root_key && o.passphrase_file.empty()) {
    return absl::InvalidArgumentError("--encrypt-root-key needs --passphrase-file FILE");
  }
  if (!o.encrypt_root_key && !o.passphrase_file.empty()) {
    return absl::InvalidArgumentError("--passphrase-file is only used with --encrypt-root-key");
  }
  base::SecretString passphrase;
  if (o.encrypt_root_key) {
    MESHID_ASSIGN_OR_RETURN(passphrase, ReadPassphrase(o.passphrase_file));
  }

  absl::Time now = io.clock.Now();
  KeyGenNotice(io, key_type, o.tiers == 3 ? 3 : 2);
  MESHID_ASSIGN_OR_RETURN(pki::PrivateKey root_key, pki::PrivateKey::Generate(key_type));
  MESHID_ASSIGN_OR_RETURN(pki::Certificate root,
                          pki::IssueRootCa(root_key, {td, kRootName, root_ttl, std::nullopt}, now));
  pki::Signer parent{root, root_key};
  std::vector<pki::Certificate> parent_chain;  // above the next CA, root excluded

  base::StagedFiles files;
  std::vector<Written> written;
  std::string root_dir = JoinPath(o.out, "root");
  files.Add(JoinPath(root_dir, "root.crt"), root.ToPem(), 0644);
  base::SecretString root_key_pem;
  if (o.encrypt_root_key) {
    MESHID_ASSIGN_OR_RETURN(root_key_pem, root_key.ToEncryptedPkcs8Pem(passphrase.view()));
  } else {
    MESHID_ASSIGN_OR_RETURN(root_key_pem, root_key.ToPkcs8Pem());
  }
  files.AddSecret(JoinPath(root_dir, "root.key"), std::move(root_key_pem));
  written.push_back({JoinPath(root_dir, "root.crt"), "root CA certificate"});
  written.push_back({JoinPath(root_dir, "root.key"),
                     o.encrypt_root_key ? "root CA private key (0600, AES-256 encrypted)"
                                        : "root CA private key (0600)"});
  std::vector<pki::Certificate> roots = {root};

  if (o.tiers == 3) {
    MESHID_ASSIGN_OR_RETURN(pki::PrivateKey env_key, pki::PrivateKey::Generate(key_type));
    MESHID_ASSIGN_OR_RETURN(
        pki::Certificate env,
        pki::IssueIntermediateCa(parent, env_key.public_key(),
                                 {td, kEnvironmentName, env_ttl, kEnvironmentPathLen}, now));
    NoteIfCut(io, "environment CA", now, env_ttl, root);
    parent_chain.insert(parent_chain.begin(), env);
    MESHID_RETURN_IF_ERROR(StageCaDirectory(files, written, JoinPath(o.out, "environment"), env_key,
                                            parent_chain, roots, "environment CA"));
    parent = pki::Signer{env, env_key};
  }

  MESHID_ASSIGN_OR_RETURN(pki::PrivateKey int_key, pki::PrivateKey::Generate(key_type));
  MESHID_ASSIGN_OR_RETURN(
      pki::Certificate intermediate,
      pki::IssueIntermediateCa(parent, int_key.public_key(),
                               {td, kIntermediateName, int_ttl, kIntermediatePathLen}, now));
  NoteIfCut(io, "intermediate CA", now, int_ttl, parent.certificate);
  std::vector<pki::Certificate> chain = {intermediate};
  chain.insert(chain.end(), parent_chain.begin(), parent_chain.end());
  MESHID_RETURN_IF_ERROR(StageCaDirectory(files, written, JoinPath(o.out, "intermediate"), int_key,
                                          chain, roots, "intermediate CA"));
  MESHID_RETURN_IF_ERROR(Commit(files, o.force));

  if (o.json) {
    PrintJson(io, {{"trust_domain", td.name()},
                   {"tiers", o.tiers},
                   {"root", {{"not_after", base::Rfc3339(root.not_after())}}},
                   {"intermediate", {{"not_after", base::Rfc3339(intermediate.not_after())}}},
                   {"files", WrittenJson(written)}});
  } else {
    io.out << "Created a "
           << (o.tiers == 3 ? "root → environment → intermediate" : "root → intermediate")
           << " hierarchy for trust domain " << td.name() << " (" << pki::KeyTypeName(key_type)
           << "):\n";
    PrintWritten(io, written);
    io.out << "Root expires " << base::Rfc3339(root.not_after()) << "; intermediate expires "
           << base::Rfc3339(intermediate.not_after()) << ".\n"
           << "Give the CA server only " << JoinPath(o.out, "intermediate") << "/.\n";
  }
  io.err << "WARNING: " << root_dir
         << "/ holds the root CA private key. Move it to offline storage; no meshid server needs "
            "it.\n";
  return absl::OkStatus();
}

// ---- pki intermediate ----

struct IntermediateOptions {
  std::string root;
  std::string trust_domain;
  std::string out;
  std::string ttl = "8760h";
  std::string key_type = "ec-p256";
  std::string passphrase_file;
  bool force = false;
  bool json = false;
};

absl::Status RunIntermediate(Io& io, const IntermediateOptions& o) {
  MESHID_ASSIGN_OR_RETURN(pki::TrustDomain td, pki::TrustDomain::Parse(o.trust_domain));
  MESHID_ASSIGN_OR_RETURN(pki::KeyType key_type, pki::ParseKeyType(o.key_type));
  MESHID_ASSIGN_OR_RETURN(absl::Duration ttl, ParseTtl("--ttl", o.ttl));
  MESHID_ASSIGN_OR_RETURN(CaDirectory parent, LoadCaDirectory(o.root, o.passphrase_file));
  const pki::Certificate& parent_cert = parent.signer.certificate;
  if (std::optional<int> len = parent_cert.path_len(); len.has_value() && *len < 2) {
    return absl::FailedPreconditionError(
        absl::StrCat(o.root, ": this CA has pathlen ", *len,
                     ", too small for an intermediate that signs issuing CAs (needs 2 or none)"));
  }
  absl::Time now = io.clock.Now();
  KeyGenNotice(io, key_type, 1);
  MESHID_ASSIGN_OR_RETURN(pki::PrivateKey key, pki::PrivateKey::Generate(key_type));
  absl::StatusOr<pki::Certificate> cert = pki::IssueIntermediateCa(
      parent.signer, key.public_key(), {td, kIntermediateName, ttl, kIntermediatePathLen}, now);
  if (!cert.ok()) return base::Annotate(cert.status(), o.root);
  std::vector<pki::Certificate> chain = {*cert};
  for (const pki::Certificate& c : parent.chain) chain.push_back(c);

  base::StagedFiles files;
  std::vector<Written> written;
  MESHID_RETURN_IF_ERROR(
      StageCaDirectory(files, written, o.out, key, chain, parent.roots, "intermediate CA"));
  MESHID_RETURN_IF_ERROR(Commit(files, o.force));
  bool capped = NoteIfCut(io, "intermediate CA", now, ttl, parent_cert);
  if (o.json) {
    PrintJson(io, {{"not_after", base::Rfc3339(cert->not_after())},
                   {"capped_by_issuer", capped},
                   {"files", WrittenJson(written)}});
    return absl::OkStatus();
  }
  io.out << "Signed a new intermediate CA for " << td.name() << " under \"" << parent_cert.subject()
         << "\":\n";
  PrintWritten(io, written);
  io.out << "It expires " << base::Rfc3339(cert->not_after()) << ".\n";
  return absl::OkStatus();
}

// ---- pki csr ----

struct CsrOptions {
  std::string spiffe_id;
  std::string key_out;
  std::string out;
  std::string key_type = "ec-p256";
  std::vector<std::string> dns;
  bool force = false;
};

absl::Status RunCsr(Io& io, const CsrOptions& o) {
  MESHID_ASSIGN_OR_RETURN(pki::SpiffeId id, pki::SpiffeId::Parse(o.spiffe_id));
  MESHID_ASSIGN_OR_RETURN(pki::KeyType key_type, pki::ParseKeyType(o.key_type));
  MESHID_RETURN_IF_ERROR(CheckDnsNames(o.dns));
  KeyGenNotice(io, key_type, 1);
  MESHID_ASSIGN_OR_RETURN(pki::PrivateKey key, pki::PrivateKey::Generate(key_type));
  MESHID_ASSIGN_OR_RETURN(pki::CertificateRequest csr,
                          pki::CertificateRequest::Create(key, id, o.dns));
  MESHID_ASSIGN_OR_RETURN(base::SecretString key_pem, key.ToPkcs8Pem());
  base::StagedFiles files;
  files.AddSecret(o.key_out, std::move(key_pem));
  files.Add(o.out, csr.ToPem(), 0644);
  MESHID_RETURN_IF_ERROR(Commit(files, o.force));
  io.out << "Wrote a CSR for " << id.ToString() << ":\n";
  PrintWritten(io,
               {{o.out, "certificate request"},
                {o.key_out, absl::StrCat("private key (0600, ", pki::KeyTypeName(key_type), ")")}});
  return absl::OkStatus();
}

// ---- pki sign ----

struct SignOptions {
  std::string ca;
  std::string csr;
  std::string spiffe_id;
  std::vector<std::string> dns;
  std::string ttl = "1h";
  std::string out;
  std::string passphrase_file;
  bool force = false;
  bool json = false;
};

absl::Status RunSign(Io& io, const SignOptions& o) {
  MESHID_ASSIGN_OR_RETURN(pki::SpiffeId id, pki::SpiffeId::Parse(o.spiffe_id));
  if (id.path().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--spiffe-id ", id.ToString(), " has no path; a workload identity needs one"));
  }
  MESHID_RETURN_IF_ERROR(CheckDnsNames(o.dns));
  MESHID_ASSIGN_OR_RETURN(absl::Duration ttl, ParseTtl("--ttl", o.ttl));
  MESHID_ASSIGN_OR_RETURN(CaDirectory ca, LoadCaDirectory(o.ca, o.passphrase_file));
  if (ca.is_root) {
    return absl::InvalidArgumentError(
        absl::StrCat(o.ca,
                     ": is a root directory; a root signs only intermediates. Sign with an "
                     "intermediate directory (meshid pki init writes one in <out>/intermediate)"));
  }
  MESHID_ASSIGN_OR_RETURN(pki::CertificateRequest csr, LoadCsr(o.csr));
  absl::Time now = io.clock.Now();
  absl::StatusOr<pki::Certificate> leaf =
      pki::IssueLeaf(ca.signer, csr.public_key(), {id, o.dns, ttl}, now);
  if (!leaf.ok()) return base::Annotate(leaf.status(), o.ca);

  // Never hand out a chain that does not verify against the directory's own bundle.
  std::vector<pki::Certificate> chain = {*leaf};
  chain.insert(chain.end(), ca.chain.begin(), ca.chain.end());
  pki::TrustBundle bundle(id.trust_domain());
  for (const pki::Certificate& root : ca.roots) (void)bundle.AddX509Authority(root);
  pki::VerifyResult check = pki::VerifyX509Svid(chain, bundle, {now});
  if (!check.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("refusing to write a certificate that does not verify against ",
                     JoinPath(o.ca, "bundle.pem"), ": ", pki::ChainErrorName(check.error()), ": ",
                     check.detail()));
  }
  base::StagedFiles files;
  files.Add(o.out, pki::ToPem(chain), 0644);
  MESHID_RETURN_IF_ERROR(Commit(files, o.force));

  std::vector<std::string> asked = csr.uri_sans();
  if (!asked.empty() && asked.front() != id.ToString()) {
    io.err << "note: the CSR asked for " << base::Printable(asked.front()) << "; issued "
           << id.ToString() << " as --spiffe-id says\n";
  }
  bool capped = NoteIfCut(io, "certificate", now, ttl, ca.signer.certificate);
  if (o.json) {
    PrintJson(io, {{"path", o.out},
                   {"spiffe_id", id.ToString()},
                   {"serial", leaf->serial_hex()},
                   {"not_after", base::Rfc3339(leaf->not_after())},
                   {"capped_by_issuer", capped},
                   {"chain_length", chain.size()}});
    return absl::OkStatus();
  }
  io.out << "Wrote " << o.out << ": " << id.ToString() << ", serial " << leaf->serial_hex() << ", "
         << Remaining(*leaf, now) << " (" << base::Rfc3339(leaf->not_after()) << "), followed by "
         << ca.chain.size() << " CA certificate(s).\n";
  return absl::OkStatus();
}

}  // namespace

void AddPkiCommands(CLI::App& app, Io& io) {
  CLI::App* pki = app.add_subcommand("pki", "Offline CA work: create the hierarchy, sign CSRs");
  pki->require_subcommand(1);

  auto init_opts = std::make_shared<InitOptions>();
  CLI::App* init = pki->add_subcommand("init", "Create a root CA and an intermediate CA");
  init->add_option("--trust-domain", init_opts->trust_domain, "Trust domain, e.g. example.org")
      ->required();
  init->add_option("--out", init_opts->out, "Directory to write root/ and intermediate/ into")
      ->required();
  init->add_option("--tiers", init_opts->tiers,
                   "2: root → intermediate; 3: root → environment CA → intermediate")
      ->check(CLI::IsMember({2, 3}))
      ->capture_default_str();
  init->add_option("--key-type", init_opts->key_type, "One of " + pki::KeyTypeNames())
      ->capture_default_str();
  init->add_option("--root-ttl", init_opts->root_ttl, "Root CA lifetime")->capture_default_str();
  init->add_option("--environment-ttl", init_opts->environment_ttl,
                   "Environment CA lifetime (--tiers 3)")
      ->capture_default_str();
  init->add_option("--intermediate-ttl", init_opts->intermediate_ttl, "Intermediate CA lifetime")
      ->capture_default_str();
  init->add_flag("--encrypt-root-key", init_opts->encrypt_root_key,
                 "Encrypt root.key with AES-256 under the passphrase from --passphrase-file");
  init->add_option("--passphrase-file", init_opts->passphrase_file,
                   "File holding the root key passphrase (never give it on the command line)");
  init->add_flag("--force", init_opts->force, "Overwrite existing files");
  AddOutputFlag(init, &init_opts->json);
  init->footer(Examples({"meshid pki init --trust-domain example.org --out ./pki",
                         "meshid pki init --trust-domain prod.example.org --out ./pki --tiers 3 "
                         "--encrypt-root-key --passphrase-file ./root.pass"}));
  init->callback([&io, init_opts] {
    if (absl::Status s = RunInit(io, *init_opts); !s.ok()) io.exit_code = Fail(io, s);
  });

  auto int_opts = std::make_shared<IntermediateOptions>();
  CLI::App* inter =
      pki->add_subcommand("intermediate", "Sign a new intermediate CA under an existing root");
  inter
      ->add_option("--root", int_opts->root,
                   "Signing CA: a root directory (root.crt, root.key) or a CA directory")
      ->required();
  inter->add_option("--trust-domain", int_opts->trust_domain, "Trust domain of the new CA")
      ->required();
  inter->add_option("--out", int_opts->out, "Directory for ca.crt, ca.key, chain.pem, bundle.pem")
      ->required();
  inter->add_option("--ttl", int_opts->ttl, "Lifetime")->capture_default_str();
  inter->add_option("--key-type", int_opts->key_type, "One of " + pki::KeyTypeNames())
      ->capture_default_str();
  inter->add_option("--passphrase-file", int_opts->passphrase_file,
                    "Passphrase of an encrypted root key");
  inter->add_flag("--force", int_opts->force, "Overwrite existing files");
  AddOutputFlag(inter, &int_opts->json);
  inter->footer(
      Examples({"meshid pki intermediate --root ./pki/root --trust-domain example.org "
                "--out ./pki/cluster-b"}));
  inter->callback([&io, int_opts] {
    if (absl::Status s = RunIntermediate(io, *int_opts); !s.ok()) io.exit_code = Fail(io, s);
  });

  auto csr_opts = std::make_shared<CsrOptions>();
  CLI::App* csr = pki->add_subcommand("csr", "Generate a key and a CSR for a SPIFFE ID");
  csr->add_option("--spiffe-id", csr_opts->spiffe_id, "SPIFFE ID to request")->required();
  csr->add_option("--key-out", csr_opts->key_out, "Where to write the new private key (0600)")
      ->required();
  csr->add_option("--out", csr_opts->out, "Where to write the CSR (PEM)")->required();
  csr->add_option("--key-type", csr_opts->key_type, "One of " + pki::KeyTypeNames())
      ->capture_default_str();
  csr->add_option("--dns", csr_opts->dns, "DNS SAN to request (repeatable)");
  csr->add_flag("--force", csr_opts->force, "Overwrite existing files");
  csr->footer(
      Examples({"meshid pki csr --spiffe-id spiffe://example.org/ns/default/sa/web "
                "--key-out web.key --out web.csr"}));
  csr->callback([&io, csr_opts] {
    if (absl::Status s = RunCsr(io, *csr_opts); !s.ok()) io.exit_code = Fail(io, s);
  });

  auto sign_opts = std::make_shared<SignOptions>();
  CLI::App* sign = pki->add_subcommand("sign", "Issue an X509-SVID for a CSR");
  sign->add_option("--ca", sign_opts->ca, "CA directory (ca.crt, ca.key, chain.pem, bundle.pem)")
      ->required();
  sign->add_option("--csr", sign_opts->csr, "CSR file (PEM or DER)")->required();
  sign->add_option("--spiffe-id", sign_opts->spiffe_id,
                   "SPIFFE ID to issue (the CSR's own SANs are ignored)")
      ->required();
  sign->add_option("--dns", sign_opts->dns, "DNS SAN (repeatable)");
  sign->add_option("--ttl", sign_opts->ttl, "Lifetime")->capture_default_str();
  sign->add_option("--out", sign_opts->out, "Where to write the leaf followed by its chain")
      ->required();
  sign->add_option("--passphrase-file", sign_opts->passphrase_file,
                   "Passphrase of an encrypted CA key");
  sign->add_flag("--force", sign_opts->force, "Overwrite an existing file");
  AddOutputFlag(sign, &sign_opts->json);
  sign->footer(
      Examples({"meshid pki sign --ca ./pki/intermediate --csr web.csr "
                "--spiffe-id spiffe://example.org/ns/default/sa/web --ttl 24h --out web.pem"}));
  sign->callback([&io, sign_opts] {
    if (absl::Status s = RunSign(io, *sign_opts); !s.ok()) io.exit_code = Fail(io, s);
  });
}

}  // namespace meshid::cli
