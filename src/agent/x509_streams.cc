#include "x509_streams.h"

#include <algorithm>
#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/wire_format_lite.h"

namespace meshid::agent {

std::string Caller::Describe() const {
  return absl::StrCat("pid ", peer.pid, " uid ", peer.uid, " gid ", peer.gid);
}

std::vector<std::shared_ptr<const ca::v1::Entry>> MatchingEntries(const Snapshot& snapshot,
                                                                  const Caller& caller) {
  std::vector<std::shared_ptr<const ca::v1::Entry>> matched;
  for (const auto& [id, entry] : *snapshot.entries) {
    const std::vector<std::string> selectors(entry->selectors().begin(), entry->selectors().end());
    if (SelectorsMatch(selectors, caller.selectors)) matched.push_back(entry);
  }
  std::sort(matched.begin(), matched.end(), [](const auto& a, const auto& b) {
    if (a->created_at() != b->created_at()) return a->created_at() < b->created_at();
    return a->id() < b->id();
  });
  return matched;
}

grpc::Status NoIdentity(const Caller& caller) {
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      absl::StrCat("no identity issued: no registration entry matches this "
                                   "process (",
                                   caller.Describe(), ")"));
}

namespace {

using google::protobuf::internal::WireFormatLite;

class Rejected final : public X509Reactor {
 public:
  explicit Rejected(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

bool UpdateX509Content(const Snapshot& s,
                       const std::vector<std::shared_ptr<const ca::v1::Entry>>& matched,
                       X509Content& content) {
  if (s.bundle == nullptr) return false;
  const uint64_t sequence = s.bundle->sequence();
  if (content.svids == s.svids && content.entries_version == s.entries_version) {
    if (content.items.empty() || content.bundle_sequence == sequence) return false;
    content.bundle_sequence = sequence;
    return true;
  }
  X509Content next{{}, sequence, s.svids, s.entries_version};
  for (const auto& entry : matched) {
    auto svid = s.svids->find(entry->id());
    if (svid != s.svids->end()) next.items.push_back({entry, svid->second});
  }
  const bool same = next.bundle_sequence == content.bundle_sequence &&
                    std::equal(next.items.begin(), next.items.end(), content.items.begin(),
                               content.items.end(), [](const auto& a, const auto& b) {
                                 return a.svid == b.svid && a.entry->hint() == b.entry->hint();
                               });
  content = std::move(next);
  return !content.items.empty() && !same;
}

grpc::ByteBuffer EncodeX509Response(const Snapshot& s, const X509Content& content) {
  const grpc::Slice& bundle = s.x509_bundle_field;
  std::vector<grpc::Slice> slices;
  slices.reserve(3 * content.items.size());
  for (const X509Content::Item& item : content.items) {
    std::string hint;  // the hint field, encoded (empty when there is none)
    if (!item.entry->hint().empty()) {
      X509SVID hint_only;
      hint_only.set_hint(item.entry->hint());
      hint = hint_only.SerializeAsString();
    }
    const size_t size = item.svid->x509_fields.size() + bundle.size() + hint.size();
    // The X509SVID's tag and length, then its fields, bundle and hint.
    uint8_t head[16];
    uint8_t* p = WireFormatLite::WriteTagToArray(X509SVIDResponse::kSvidsFieldNumber,
                                                 WireFormatLite::WIRETYPE_LENGTH_DELIMITED, head);
    p = google::protobuf::io::CodedOutputStream::WriteVarint32ToArray(static_cast<uint32_t>(size),
                                                                      p);
    slices.emplace_back(head, p - head);
    slices.push_back(item.svid->x509_fields);
    slices.push_back(bundle);
    if (!hint.empty()) slices.emplace_back(hint);
  }
  return grpc::ByteBuffer(slices.data(), slices.size());
}

X509Reactor* RejectedX509(const grpc::Status& status) { return new Rejected(status); }

// Stream is one FetchX509SVID call. It writes at most one response at a time; snapshots
// offered meanwhile are folded into the next write. Finish is called outside the lock, so
// that an OnDone run inline cannot take the registry lock while this one is held.
class X509Streams::Stream final : public X509Reactor {
 public:
  Stream(X509Streams& owner, Caller caller) : owner_(owner), caller_(std::move(caller)) {
    owner_.metrics_.ClientConnected();
  }

  // Offer makes `snapshot` the one to send, unless a newer one already is.
  void Offer(const std::shared_ptr<const Snapshot>& snapshot) {
    std::optional<grpc::Status> finish;
    {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      if (finished_) return;
      if (latest_ != nullptr && latest_->generation >= snapshot->generation) return;
      latest_ = snapshot;
      if (!writing_) SendLatest(finish);
    }
    if (finish.has_value()) Finish(*finish);
  }

  void End(const grpc::Status& status) {
    std::optional<grpc::Status> finish;
    {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      MarkFinished(status, finish);
    }
    if (finish.has_value()) Finish(*finish);
  }

  void OnWriteDone(bool ok) override {
    std::optional<grpc::Status> finish;
    {
      std::lock_guard<std::recursive_mutex> lock(mu_);
      writing_ = false;
      if (!ok) {
        MarkFinished(grpc::Status::OK, finish);  // the client went away
      } else if (!finished_ && latest_->generation != sent_generation_) {
        SendLatest(finish);
      }
    }
    if (finish.has_value()) Finish(*finish);
  }

  void OnCancel() override { End(grpc::Status::CANCELLED); }

  void OnDone() override {
    owner_.metrics_.ClientDisconnected();
    owner_.Retire(this);
  }

 private:
  // SendLatest writes `latest_` if it changes what the client holds. mu_ is held.
  void SendLatest(std::optional<grpc::Status>& finish) {
    sent_generation_ = latest_->generation;
    if (latest_->entries_version != matched_version_) {
      matched_ = MatchingEntries(*latest_, caller_);
      matched_version_ = latest_->entries_version;
    }
    if (matched_.empty()) {
      MarkFinished(NoIdentity(caller_), finish);
      return;
    }
    if (!UpdateX509Content(*latest_, matched_, sent_)) return;
    response_ = EncodeX509Response(*latest_, sent_);
    writing_ = true;
    StartWrite(&response_);
  }

  // MarkFinished records that the call ends with `status`; the caller calls Finish after
  // releasing mu_. mu_ is held.
  void MarkFinished(const grpc::Status& status, std::optional<grpc::Status>& finish) {
    if (finished_) return;
    finished_ = true;
    finish = status;
  }

  X509Streams& owner_;
  const Caller caller_;
  // Recursive: a reaction started under the lock (StartWrite) may, in principle, run inline.
  std::recursive_mutex mu_;
  std::shared_ptr<const Snapshot> latest_;
  uint64_t sent_generation_ = UINT64_MAX;
  uint64_t matched_version_ = UINT64_MAX;
  std::vector<std::shared_ptr<const ca::v1::Entry>> matched_;
  X509Content sent_;  // what the client holds
  grpc::ByteBuffer response_;
  bool writing_ = false;
  bool finished_ = false;
};

X509Streams::X509Streams(SvidCache& cache, AgentMetrics& metrics)
    : cache_(cache), metrics_(metrics), pusher_([this] { Push(); }) {}

X509Streams::~X509Streams() {
  Stop();
  std::lock_guard<std::recursive_mutex> lock(mu_);
  DeleteRetired();
}

void X509Streams::DeleteRetired() {
  for (Stream* stream : retired_) delete stream;
  retired_.clear();
}

X509Reactor* X509Streams::Open(Caller caller) {
  auto* stream = new Stream(*this, std::move(caller));
  bool stopped;
  {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    stopped = stopped_;
    if (!stopped) streams_.insert(stream);
  }
  // Nothing can finish the call before this handler returns its reactor: no lock needed.
  if (stopped) {
    stream->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the agent is stopping"));
  } else {
    stream->Offer(cache_.Get());
  }
  return stream;
}

void X509Streams::Retire(Stream* stream) {
  std::lock_guard<std::recursive_mutex> lock(mu_);
  streams_.erase(stream);
  retired_.push_back(stream);
}

void X509Streams::Push() {
  uint64_t seen = cache_.Get()->generation;
  while (true) {
    std::shared_ptr<const Snapshot> snapshot =
        cache_.WaitForChange(seen, absl::Now() + absl::Seconds(1));
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (stopped_) return;
    DeleteRetired();
    if (snapshot->generation == seen) continue;
    seen = snapshot->generation;
    // A copy: a stream finished by its offer retires itself from streams_ meanwhile.
    const std::vector<Stream*> open(streams_.begin(), streams_.end());
    if (open.empty()) continue;
    const absl::Time start = absl::Now();
    for (Stream* stream : open) stream->Offer(snapshot);
    metrics_.WorkloadPush(absl::Now() - start);
  }
}

void X509Streams::Stop() {
  {
    std::lock_guard<std::recursive_mutex> lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    const std::vector<Stream*> open(streams_.begin(), streams_.end());
    for (Stream* stream : open) {
      stream->End(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the agent is stopping"));
    }
  }
  if (pusher_.joinable()) pusher_.join();
}

}  // namespace meshid::agent
