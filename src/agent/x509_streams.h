#pragma once

// Private to the agent module: the open FetchX509SVID streams, served with gRPC's callback
// API and raw (pre-serialized) responses. A stream holds no thread; one pusher thread offers every
// new snapshot to every stream, and each stream writes when its SVIDs or the bundle changed. (With
// the synchronous API each stream held a thread, and a bundle change woke all of them at once.)

#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "agent_metrics.h"
#include "spiffe/workload/workload.grpc.pb.h"
#include "svid_cache.h"
#include "workload_attestor.h"

namespace meshid::agent {

// Caller is a Workload API client as attested at the start of a call.
struct Caller {
  PeerCredentials peer;
  std::vector<std::string> selectors;  // sorted
  std::string Describe() const;        // "pid 12 uid 1000 gid 1000"
};

// MatchingEntries returns the entries of `snapshot` the caller's selectors satisfy, oldest
// first (clients take the first SVID as the default one).
std::vector<std::shared_ptr<const ca::v1::Entry>> MatchingEntries(const Snapshot& snapshot,
                                                                  const Caller& caller);

// NoIdentity is the PermissionDenied a caller without a matching entry gets.
grpc::Status NoIdentity(const Caller& caller);

// X509Content is what a FetchX509SVID response carries: the SVID of each matched entry that
// has one (oldest entry first) and the bundle. It holds the SVIDs, so that comparing
// pointers says whether anything changed.
struct X509Content {
  struct Item {
    std::shared_ptr<const ca::v1::Entry> entry;
    std::shared_ptr<const CachedSvid> svid;
  };
  std::vector<Item> items;
  uint64_t bundle_sequence = 0;
  // What the items were chosen from.
  std::shared_ptr<const SvidMap> svids;
  uint64_t entries_version = 0;
};

// UpdateX509Content makes `content` what is sent for `matched` (the entries a caller
// matches in `snapshot`) and says whether the caller must be sent it: it has an SVID and
// its SVIDs or bundle changed. When the entries and SVIDs are those `content` was chosen
// from, only the bundle is looked at: a bundle change costs no lookups.
bool UpdateX509Content(const Snapshot& snapshot,
                       const std::vector<std::shared_ptr<const ca::v1::Entry>>& matched,
                       X509Content& content);

// EncodeX509Response serializes the X509SVIDResponse for `content`: each SVID's fields as
// encoded at issuance, followed by `snapshot`'s bundle field and the entry's hint, so that a
// bundle change costs one copy per stream and no protobuf encoding. The buffer is wiped when
// gRPC frees it (it holds private keys).
grpc::ByteBuffer EncodeX509Response(const Snapshot& snapshot, const X509Content& content);

// X509Reactor is a FetchX509SVID stream that writes responses already serialized.
using X509Reactor = grpc::ServerWriteReactor<grpc::ByteBuffer>;

// RejectedX509 returns a reactor that ends the call at once with `status`.
X509Reactor* RejectedX509(const grpc::Status& status);

class X509Streams {
 public:
  X509Streams(SvidCache& cache, AgentMetrics& metrics);
  ~X509Streams();

  // Open returns the reactor of a new stream for an attested caller.
  X509Reactor* Open(Caller caller);
  // Stop ends every open stream with UNAVAILABLE and stops the pusher.
  void Stop();

 private:
  class Stream;
  void Push();
  // Retire takes a finished stream out of the open ones; it is deleted later, at a point
  // where no loop over the streams can hold it (OnDone may run inline within Finish).
  void Retire(Stream* stream);
  void DeleteRetired();  // mu_ is held

  SvidCache& cache_;
  AgentMetrics& metrics_;
  // Guards the sets and stopped_. Recursive: a stream finished while Push offers it a
  // snapshot may retire itself on the same thread. A Stream's own lock is taken inside it.
  std::recursive_mutex mu_;
  std::set<Stream*> streams_;
  std::vector<Stream*> retired_;
  bool stopped_ = false;
  std::thread pusher_;
};

}  // namespace meshid::agent
