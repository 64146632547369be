// pki_micro: the per-SVID costs of the CA's signing path, one step at a time, against the
// raw ECDSA operations they contain, and the OpenSSL alternatives measured for
// ParseCsrPublicKey and SetSubjectPublicKey (see BENCHMARKS.md). Run, from a build with
// tests and benchmarks: build/bench/bench/pki_micro/pki_micro --benchmark_repetitions=5
#include <string>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/sha.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "absl/time/clock.h"
#include "benchmark/benchmark.h"
#include "meshid/pki/csr.h"
#include "meshid/pki/issue.h"
#include "meshid/testing/test_pki.h"

namespace {

using namespace meshid;

struct Fixture {
  testing::TestPki pki = testing::TestPki::Create(absl::Now());
  pki::PrivateKey key = *pki::PrivateKey::Generate(pki::KeyType::kEcP256);
  pki::SpiffeId id = *pki::SpiffeId::Parse("spiffe://example.org/ns/default/sa/web");
  std::string csr_der = pki::CertificateRequest::Create(key, id)->ToDer();
  pki::CertificateRequest csr = *pki::CertificateRequest::Parse(csr_der);
};

Fixture& F() {
  static Fixture* f = new Fixture();
  return *f;
}

struct RawCsr {
  std::string point;       // uncompressed EC point
  std::string tbs_digest;  // SHA-256 of certificationRequestInfo
  std::string sig;         // DER ECDSA-Sig-Value
};
RawCsr& Raw() {
  static RawCsr* r = [] {
    auto* r = new RawCsr();
    X509_REQ* req = F().csr.get0();
    X509_PUBKEY* spki = X509_REQ_get_X509_PUBKEY(req);
    const unsigned char* pk = nullptr;
    int pklen = 0;
    X509_PUBKEY_get0_param(nullptr, &pk, &pklen, nullptr, spki);
    r->point.assign(reinterpret_cast<const char*>(pk), pklen);
    unsigned char* tbs = nullptr;
    int tbs_len = i2d_re_X509_REQ_tbs(req, &tbs);
    unsigned char md[32];
    SHA256(tbs, tbs_len, md);
    OPENSSL_free(tbs);
    r->tbs_digest.assign(reinterpret_cast<char*>(md), 32);
    const ASN1_BIT_STRING* sig = nullptr;
    X509_REQ_get0_signature(req, &sig, nullptr);
    r->sig.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(sig)),
                  ASN1_STRING_length(sig));
    return r;
  }();
  return *r;
}
EVP_PKEY* P256Template() {
  static EVP_PKEY* tmpl = [] {
    EVP_PKEY_CTX* pctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>("P-256"), 0),
        OSSL_PARAM_construct_end()};
    EVP_PKEY* t = nullptr;
    EVP_PKEY_fromdata_init(pctx);
    EVP_PKEY_fromdata(pctx, &t, EVP_PKEY_KEY_PARAMETERS, params);
    EVP_PKEY_CTX_free(pctx);
    return t;
  }();
  return tmpl;
}

void BM_EcdsaSign(benchmark::State& state) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  unsigned char sig[128];
  const char msg[] = "tbs";
  for (auto _ : state) {
    size_t len = sizeof(sig);
    EVP_DigestSignInit(ctx, nullptr, EVP_sha256(), nullptr, F().key.get0());
    EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(msg), sizeof(msg));
  }
  EVP_MD_CTX_free(ctx);
}
BENCHMARK(BM_EcdsaSign);

void BM_CsrParseAndVerify(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(pki::CertificateRequest::Parse(F().csr_der));
}
BENCHMARK(BM_CsrParseAndVerify);

void BM_ParseCsrPublicKey(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(pki::ParseCsrPublicKey(F().csr_der));
}
BENCHMARK(BM_ParseCsrPublicKey);

void BM_LeafIssuerFromCsrKey(benchmark::State& state) {
  absl::Time now = absl::Now();
  pki::PublicKey subject = pki::ParseCsrPublicKey(F().csr_der)->key;
  pki::LeafIssuer issuer = *pki::LeafIssuer::Create(F().pki.intermediate);
  for (auto _ : state) benchmark::DoNotOptimize(issuer.Issue(subject, {F().id}, now));
}
BENCHMARK(BM_LeafIssuerFromCsrKey);

void BM_X509SetPubkey(benchmark::State& state) {
  EVP_PKEY* pub = F().csr.public_key().get0();
  for (auto _ : state) {
    X509* x = X509_new();
    X509_set_pubkey(x, pub);
    X509_free(x);
  }
}
BENCHMARK(BM_X509SetPubkey);
void BM_D2iReq(benchmark::State& state) {
  for (auto _ : state) {
    const unsigned char* p = reinterpret_cast<const unsigned char*>(F().csr_der.data());
    X509_REQ* r = d2i_X509_REQ(nullptr, &p, F().csr_der.size());
    X509_REQ_free(r);
  }
}
BENCHMARK(BM_D2iReq);
void BM_ReqVerify(benchmark::State& state) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(F().csr_der.data());
  X509_REQ* r = d2i_X509_REQ(nullptr, &p, F().csr_der.size());
  EVP_PKEY* k = X509_REQ_get0_pubkey(r);
  for (auto _ : state) benchmark::DoNotOptimize(X509_REQ_verify(r, k));
  X509_REQ_free(r);
}
BENCHMARK(BM_ReqVerify);
void BM_NconfExtension(benchmark::State& state) {
  X509* x = X509_new();
  for (auto _ : state) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, nullptr, x, nullptr, nullptr, 0);
    X509_EXTENSION* e =
        X509V3_EXT_nconf_nid(nullptr, &ctx, NID_ext_key_usage, "serverAuth,clientAuth");
    X509_EXTENSION_free(e);
  }
  X509_free(x);
}
BENCHMARK(BM_NconfExtension);
void BM_X509Sign(benchmark::State& state) {
  pki::Certificate leaf =
      *pki::IssueLeaf(F().pki.intermediate, F().csr.public_key(), {F().id}, absl::Now());
  X509* x = X509_dup(leaf.get0());
  for (auto _ : state) X509_sign(x, F().pki.intermediate.key.get0(), EVP_sha256());
  X509_free(x);
}
BENCHMARK(BM_X509Sign);
void BM_KeyMatches(benchmark::State& state) {
  pki::PublicKey pub = F().pki.intermediate.certificate.public_key();
  for (auto _ : state) benchmark::DoNotOptimize(F().pki.intermediate.key.Matches(pub));
}
BENCHMARK(BM_KeyMatches);
void BM_KeyInfo(benchmark::State& state) {
  pki::PublicKey pub = F().csr.public_key();
  for (auto _ : state) benchmark::DoNotOptimize(pub.info());
}
BENCHMARK(BM_KeyInfo);
void BM_FromdataEcPublic(benchmark::State& state) {
  std::string point = Raw().point;
  for (auto _ : state) {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, const_cast<char*>("P-256"), 0),
        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point.data(), point.size()),
        OSSL_PARAM_construct_end()};
    EVP_PKEY* key = nullptr;
    EVP_PKEY_fromdata_init(ctx);
    EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params);
    EVP_PKEY_free(key);
    EVP_PKEY_CTX_free(ctx);
  }
}
BENCHMARK(BM_FromdataEcPublic);
void BM_Set0Param(benchmark::State& state) {
  X509_PUBKEY* spki = X509_REQ_get_X509_PUBKEY(F().csr.get0());
  for (auto _ : state) {
    X509* x = X509_new();
    ASN1_OBJECT* obj;
    const unsigned char* pk;
    int pklen;
    X509_ALGOR* alg;
    X509_PUBKEY_get0_param(&obj, &pk, &pklen, &alg, spki);
    const ASN1_OBJECT* aobj;
    int ptype;
    const void* pval;
    X509_ALGOR_get0(&aobj, &ptype, &pval, alg);
    void* pcopy = ptype == V_ASN1_OBJECT ? OBJ_dup(static_cast<const ASN1_OBJECT*>(pval)) : nullptr;
    unsigned char* penc = static_cast<unsigned char*>(OPENSSL_memdup(pk, pklen));
    X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), OBJ_dup(aobj), ptype, pcopy, penc, pklen);
    X509_free(x);
  }
}
BENCHMARK(BM_Set0Param);
void BM_DupTemplateSetPoint(benchmark::State& state) {
  const auto* point = reinterpret_cast<const unsigned char*>(Raw().point.data());
  for (auto _ : state) {
    EVP_PKEY* key = EVP_PKEY_dup(P256Template());
    EVP_PKEY_set1_encoded_public_key(key, point, Raw().point.size());
    EVP_PKEY_free(key);
  }
}
BENCHMARK(BM_DupTemplateSetPoint);
void BM_X509SignCtxCopy(benchmark::State& state) {
  pki::Certificate leaf =
      *pki::IssueLeaf(F().pki.intermediate, F().csr.public_key(), {F().id}, absl::Now());
  X509* x = X509_dup(leaf.get0());
  EVP_MD_CTX* tmpl = EVP_MD_CTX_new();
  EVP_DigestSignInit(tmpl, nullptr, EVP_sha256(), nullptr, F().pki.intermediate.key.get0());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  for (auto _ : state) {
    EVP_MD_CTX_copy_ex(ctx, tmpl);
    X509_sign_ctx(x, ctx);
  }
  EVP_MD_CTX_free(ctx);
  EVP_MD_CTX_free(tmpl);
  X509_free(x);
}
BENCHMARK(BM_X509SignCtxCopy);

// The ECDSA operations with as little around them as OpenSSL allows: the floor of the
// signing path (a new context per key, as a CSR needs, or one reused; a new signing context
// per leaf, or one reused, as LeafIssuer does).
void BM_VerifyEvpPkeyNewCtx(benchmark::State& state) {
  const RawCsr& r = Raw();
  int ok = 0;
  for (auto _ : state) {
    EVP_PKEY* key = EVP_PKEY_dup(P256Template());
    EVP_PKEY_set1_encoded_public_key(key, reinterpret_cast<const unsigned char*>(r.point.data()),
                                     r.point.size());
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr);
    EVP_PKEY_verify_init(ctx);
    ok += EVP_PKEY_verify(ctx, reinterpret_cast<const unsigned char*>(r.sig.data()), r.sig.size(),
                          reinterpret_cast<const unsigned char*>(r.tbs_digest.data()), 32);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(key);
  }
  if (ok != state.iterations()) state.SkipWithError("verify failed");
}
BENCHMARK(BM_VerifyEvpPkeyNewCtx);
void BM_VerifyEvpPkeyOnly(benchmark::State& state) {
  const RawCsr& r = Raw();
  EVP_PKEY* key = EVP_PKEY_dup(P256Template());
  EVP_PKEY_set1_encoded_public_key(key, reinterpret_cast<const unsigned char*>(r.point.data()),
                                   r.point.size());
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr);
  EVP_PKEY_verify_init(ctx);
  int ok = 0;
  for (auto _ : state) {
    ok += EVP_PKEY_verify(ctx, reinterpret_cast<const unsigned char*>(r.sig.data()), r.sig.size(),
                          reinterpret_cast<const unsigned char*>(r.tbs_digest.data()), 32);
  }
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(key);
  if (ok != state.iterations()) state.SkipWithError("verify failed");
}
BENCHMARK(BM_VerifyEvpPkeyOnly);
void BM_SignEvpPkeyReusedCtx(benchmark::State& state) {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, F().pki.intermediate.key.get0(), nullptr);
  EVP_PKEY_sign_init(ctx);
  unsigned char sig[80];
  for (auto _ : state) {
    size_t len = sizeof(sig);
    EVP_PKEY_sign(ctx, sig, &len, reinterpret_cast<const unsigned char*>(Raw().tbs_digest.data()),
                  32);
  }
  EVP_PKEY_CTX_free(ctx);
}
BENCHMARK(BM_SignEvpPkeyReusedCtx);

void BM_SignNewCtxEachTime(benchmark::State& state) {
  EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  unsigned char buf[500] = {1};
  unsigned char sig[80];
  for (auto _ : state) {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestSignInit(ctx, nullptr, md, nullptr, F().pki.intermediate.key.get0());
    size_t len = sizeof(sig);
    EVP_DigestSign(ctx, sig, &len, buf, sizeof(buf));
    EVP_MD_CTX_free(ctx);
  }
  EVP_MD_free(md);
}
BENCHMARK(BM_SignNewCtxEachTime);
}  // namespace

BENCHMARK_MAIN();
