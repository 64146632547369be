#include "convert.h"

namespace meshid::ca {

void ToProto(const IssuedSvid& svid, v1::X509SVID* out) {
  out->set_spiffe_id(svid.id.ToString());
  out->add_cert_chain(svid.leaf.der);
  for (const std::string& der : svid.ca->chain_der) out->add_cert_chain(der);
  out->set_not_after(absl::ToUnixSeconds(svid.leaf.not_after));
  out->set_serial(svid.leaf.serial_hex);
}

void ToProto(const pki::TrustBundle& bundle, v1::Bundle* out) {
  out->set_trust_domain(bundle.trust_domain().name());
  for (const pki::Certificate& root : bundle.x509_authorities()) {
    out->add_x509_authorities(root.ToDer());
  }
  for (const pki::JwtAuthority& jwt : bundle.ParsedJwtAuthorities()) {
    v1::JwtAuthority* a = out->add_jwt_authorities();
    a->set_key_id(jwt.key_id);
    a->set_public_key(jwt.key.ToDer());
  }
  out->set_sequence(bundle.sequence());
  out->set_refresh_hint_seconds(
      absl::ToInt64Seconds(bundle.refresh_hint().value_or(absl::Minutes(5))));
}

void ToProto(const store::EntryRecord& entry, v1::Entry* out) {
  out->set_id(entry.id);
  out->set_spiffe_id(entry.spiffe_id);
  out->set_parent_id(entry.parent_id);
  for (const std::string& s : entry.selectors) out->add_selectors(s);
  out->set_ttl_seconds(entry.ttl.has_value() ? absl::ToInt64Seconds(*entry.ttl) : 0);
  for (const std::string& d : entry.dns_names) out->add_dns_names(d);
  out->set_hint(entry.hint);
  out->set_revision(entry.revision);
  out->set_created_at(absl::ToUnixSeconds(entry.created_at));
}

void ToProto(const store::NodeRecord& node, v1::Node* out) {
  out->set_name(node.name);
  out->set_spiffe_id(node.spiffe_id);
  out->set_attested_at(absl::ToUnixSeconds(node.attested_at));
  out->set_svid_serial(node.svid_serial);
  out->set_svid_not_after(absl::ToUnixSeconds(node.svid_not_after));
  out->set_evicted(node.evicted);
  out->set_evicted_at(node.evicted_at.has_value() ? absl::ToUnixSeconds(*node.evicted_at) : 0);
}

}  // namespace meshid::ca
