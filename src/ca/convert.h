#pragma once

// Private to the ca module: conversions between the store/pki types and the API messages.

#include "authority.h"
#include "meshid/ca/v1/admin.pb.h"
#include "meshid/ca/v1/ca.pb.h"
#include "meshid/pki/bundle.h"
#include "meshid/store/data_store.h"

namespace meshid::ca {

void ToProto(const IssuedSvid& svid, v1::X509SVID* out);
void ToProto(const pki::TrustBundle& bundle, v1::Bundle* out);
void ToProto(const store::EntryRecord& entry, v1::Entry* out);
void ToProto(const store::NodeRecord& node, v1::Node* out);

}  // namespace meshid::ca
