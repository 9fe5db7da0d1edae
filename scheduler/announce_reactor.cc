#include "scheduler/announce_reactor.h"

namespace shoal {

AnnounceReactor::AnnounceReactor(SwarmCoordinator& coordinator)
    : coordinator_(coordinator),
      outbox_(std::make_shared<ReactorOutbox<v1::AnnounceResponse>>(
          [this](const v1::AnnounceResponse* m) { StartWrite(m); },
          [this](grpc::Status s) { Finish(std::move(s)); })) {
  StartRead(&request_);
}

void AnnounceReactor::End(const absl::Status& status) {
  if (stream_id_) coordinator_.CloseAnnounce(*stream_id_);
  outbox_->Close(status);
}

void AnnounceReactor::OnReadDone(bool ok) {
  if (!ok) {  // the host closed its side or went away
    End(absl::OkStatus());
    return;
  }
  if (!stream_id_) {
    if (!request_.has_open()) {
      End(absl::InvalidArgumentError("the first Announce message must be `open`"));
      return;
    }
    auto id = coordinator_.OpenAnnounce(request_.open(), outbox_);
    if (!id.ok()) {
      End(id.status());
      return;
    }
    stream_id_ = *id;
  } else if (auto s = coordinator_.OnAnnounce(*stream_id_, request_); !s.ok()) {
    End(s);
    return;
  }
  StartRead(&request_);
}

void AnnounceReactor::OnWriteDone(bool ok) { outbox_->OnWriteDone(ok); }

void AnnounceReactor::OnCancel() { outbox_->Close(absl::CancelledError("announce cancelled")); }

void AnnounceReactor::OnDone() {
  if (stream_id_) coordinator_.CloseAnnounce(*stream_id_);
  delete this;
}

TaskStreamReactor::TaskStreamReactor(SwarmCoordinator& coordinator, std::string host_id)
    : coordinator_(coordinator),
      host_id_(std::move(host_id)),
      outbox_(std::make_shared<ReactorOutbox<v1::Task>>(
          [this](const v1::Task* t) { StartWrite(t); },
          [this](grpc::Status s) { Finish(std::move(s)); })) {
  // Headers first: a client waiting for them (WaitForInitialMetadata) then knows
  // the stream is attached and tasks will reach it. gRPC forbids sending them
  // after a write has started, so this must precede the attach.
  StartSendInitialMetadata();
  auto id = coordinator_.OpenTaskStream(host_id_, outbox_);
  if (!id.ok()) {
    outbox_->Close(id.status());
    return;
  }
  stream_id_ = *id;
}

void TaskStreamReactor::OnWriteDone(bool ok) { outbox_->OnWriteDone(ok); }

void TaskStreamReactor::OnCancel() {
  outbox_->Close(absl::CancelledError("task stream cancelled"));
}

void TaskStreamReactor::OnDone() {
  if (stream_id_) coordinator_.CloseTaskStream(host_id_, *stream_id_);
  delete this;
}

}  // namespace shoal
