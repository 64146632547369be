#pragma once

// Builders shared by the policy tests: Istio objects as YAML text and requests.

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gtest/gtest.h"
#include "meshid/policy/evaluate.h"
#include "meshid/policy/loader.h"

namespace meshid::policy::testing {

// Ap returns one AuthorizationPolicy document with `spec` written in YAML flow style.
inline std::string Ap(absl::string_view name, absl::string_view spec, absl::string_view ns = "foo",
                      absl::string_view extra_meta = "") {
  return absl::StrCat("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n",
                      "metadata: {name: ", name, ", namespace: ", ns, extra_meta, "}\n",
                      "spec: ", spec, "\n---\n");
}

// Pa returns one PeerAuthentication document.
inline std::string Pa(absl::string_view name, absl::string_view spec, absl::string_view ns = "foo",
                      absl::string_view created = "") {
  std::string meta = absl::StrCat("{name: ", name, ", namespace: ", ns);
  if (!created.empty()) absl::StrAppend(&meta, ", creationTimestamp: \"", created, "\"");
  return absl::StrCat("apiVersion: security.istio.io/v1beta1\nkind: PeerAuthentication\n",
                      "metadata: ", meta, "}\nspec: ", spec, "\n---\n");
}

// Dr returns one DestinationRule document.
inline std::string Dr(absl::string_view name, absl::string_view spec, absl::string_view ns = "foo",
                      absl::string_view created = "") {
  std::string meta = absl::StrCat("{name: ", name, ", namespace: ", ns);
  if (!created.empty()) absl::StrAppend(&meta, ", creationTimestamp: \"", created, "\"");
  return absl::StrCat("apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\n",
                      "metadata: ", meta, "}\nspec: ", spec, "\n---\n");
}

// MustLoad parses `yaml` or fails the test (returning an empty set).
inline PolicySet MustLoad(const std::string& yaml) {
  if (yaml.empty()) return {};
  Loader loader;
  absl::Status s = loader.AddText(yaml, "test.yaml");
  EXPECT_TRUE(s.ok()) << s << "\n" << yaml;
  if (!s.ok()) return {};
  return std::move(loader).Finish().policies;
}

// Req builds a request to workload foo (app=httpbin, version=v1) on port 8000 from
// 10.0.0.1, by default over mTLS from cluster.local/ns/bar/sa/sleep.
class Req {
 public:
  Req() {
    r_.workload = {"foo", {{"app", "httpbin"}, {"version", "v1"}}};
    r_.port = 8000;
    r_.mtls = true;
    r_.peer_principal = "cluster.local/ns/bar/sa/sleep";
    r_.source_ip = "10.0.0.1";
  }
  Req& Peer(std::string principal) {
    r_.mtls = true;
    r_.peer_principal = std::move(principal);
    return *this;
  }
  Req& Plaintext() {
    r_.mtls = false;
    r_.peer_principal.clear();
    return *this;
  }
  Req& Http(std::string method, std::string path, std::string host = "httpbin.foo") {
    r_.http = true;
    r_.method = std::move(method);
    r_.path = std::move(path);
    r_.host = std::move(host);
    return *this;
  }
  Req& Header(std::string name, std::string value) {
    r_.http = true;
    r_.headers.emplace(std::move(name), std::move(value));
    return *this;
  }
  Req& Jwt(std::string principal) {
    r_.request_principal = std::move(principal);
    return *this;
  }
  Req& Claim(std::string name, std::vector<std::string> values) {
    r_.claims[std::move(name)] = std::move(values);
    return *this;
  }
  Req& Ip(std::string ip) {
    r_.source_ip = std::move(ip);
    return *this;
  }
  Req& NoIp() {
    r_.source_ip.reset();
    return *this;
  }
  Req& Port(uint32_t port) {
    r_.port = port;
    return *this;
  }
  Req& Sni(std::string sni) {
    r_.sni = std::move(sni);
    return *this;
  }
  Req& Namespace(std::string ns) {
    r_.workload.namespace_name = std::move(ns);
    return *this;
  }
  Req& Labels(policy::Labels labels) {
    r_.workload.labels = std::move(labels);
    return *this;
  }
  operator Request() const { return r_; }  // NOLINT(google-explicit-constructor)

 private:
  Request r_;
};

// CaseName names each case of a parameterized test after its `name` field.
struct CaseName {
  template <typename Case>
  std::string operator()(const ::testing::TestParamInfo<Case>& info) const {
    return std::string(info.param.name);
  }
};

}  // namespace meshid::policy::testing
