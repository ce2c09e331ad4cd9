// Copyright 2026 The mp Authors.

#include "mp/codec.h"

#include <exception>
#include <new>

#include "absl/strings/str_cat.h"

namespace mp {

namespace codec_internal {

absl::Status ExceptionStatus(const std::exception& e) {
  const bool out_of_memory = dynamic_cast<const std::bad_alloc*>(&e) != nullptr;
  try {
    if (out_of_memory) {
      return absl::ResourceExhaustedError(
          "mp codec: out of memory for the decoded value");
    }
    return absl::InternalError(
        absl::StrCat("mp codec: exception while decoding: ", e.what()));
  } catch (const std::exception&) {
    // No memory for a message: a code alone takes none.
    return absl::Status(out_of_memory ? absl::StatusCode::kResourceExhausted
                                      : absl::StatusCode::kInternal,
                        "");
  }
}

}  // namespace codec_internal

HandleTable::HandleTable(
    std::vector<intptr_t> handles,
    std::function<absl::StatusOr<intptr_t>(intptr_t)> duplicate,
    std::function<void(intptr_t)> close)
    : handles_(std::move(handles)),
      taken_(handles_.size(), false),
      duplicate_(std::move(duplicate)),
      close_(std::move(close)) {}

absl::StatusOr<intptr_t> HandleTable::Take(uint64_t index) {
  if (index >= handles_.size()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mp codec: handle index ", index, " out of ", handles_.size()));
  }
  if (!taken_[index]) {
    taken_[index] = true;
    return handles_[index];
  }
  return duplicate_(handles_[index]);
}

void HandleTable::CloseUntaken() {
  for (size_t i = 0; i < handles_.size(); ++i) {
    if (!taken_[i]) {
      taken_[i] = true;
      close_(handles_[i]);
    }
  }
}

void Encoder::PutHandle(intptr_t handle, std::shared_ptr<const void> owner) {
  if (handles_ == nullptr) {
    if (status_.ok()) {
      status_ = absl::InvalidArgumentError(
          "mp codec: an object wrapping an OS handle (Lock, Connection, "
          "Queue, ...) can only be passed as a Process argument");
    }
    PutVarint(0);
    return;
  }
  const auto [it, added] =
      handles_->index.emplace(handle, handles_->handles.size());
  PutVarint(it->second);
  if (added) {
    handles_->handles.push_back(handle);
    handles_->keep_alive.push_back(std::move(owner));
  }
}

void Encoder::PutVarint(uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<char>(v));
}

absl::Status Decoder::GetBytes(void* out, size_t size) {
  if (size > in_.size()) {
    return absl::OutOfRangeError(absl::StrCat(
        "mp codec: truncated input: need ", size, " bytes, have ", in_.size()));
  }
  if (size != 0) std::memcpy(out, in_.data(), size);
  in_.remove_prefix(size);
  return absl::OkStatus();
}

absl::StatusOr<absl::string_view> Decoder::GetView(size_t size) {
  if (size > in_.size()) {
    return absl::OutOfRangeError(absl::StrCat(
        "mp codec: truncated input: need ", size, " bytes, have ", in_.size()));
  }
  absl::string_view v = in_.substr(0, size);
  in_.remove_prefix(size);
  return v;
}

absl::StatusOr<uint64_t> Decoder::GetVarint() {
  uint64_t v = 0;
  for (int shift = 0, i = 0; i < 10; ++i, shift += 7) {
    if (static_cast<size_t>(i) >= in_.size()) {
      return absl::OutOfRangeError("mp codec: truncated varint");
    }
    const uint8_t byte = static_cast<uint8_t>(in_[i]);
    if (i == 9 && byte > 1) {
      return absl::InvalidArgumentError("mp codec: varint overflows 64 bits");
    }
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if ((byte & 0x80) == 0) {
      in_.remove_prefix(i + 1);
      return v;
    }
  }
  return absl::InvalidArgumentError("mp codec: varint longer than 10 bytes");
}

absl::StatusOr<size_t> Decoder::GetCount(size_t min_item_size) {
  absl::StatusOr<uint64_t> n = GetVarint();
  if (!n.ok()) return n.status();
  if (min_item_size == 0) {
    if (empty_items_ > in_.size() || *n > in_.size() - empty_items_) {
      return absl::InvalidArgumentError(absl::StrCat(
          "mp codec: ", *n, " more items of no bytes after ", empty_items_,
          " exceed the ", in_.size(), " bytes left"));
    }
    empty_items_ += static_cast<size_t>(*n);
    return static_cast<size_t>(*n);
  }
  if (*n > in_.size() / min_item_size) {
    return absl::InvalidArgumentError(absl::StrCat(
        "mp codec: length ", *n, " exceeds the ", in_.size(), " bytes left"));
  }
  return static_cast<size_t>(*n);
}

absl::StatusOr<intptr_t> Decoder::TakeHandle() {
  absl::StatusOr<uint64_t> index = GetVarint();
  if (!index.ok()) return index.status();
  if (handles_ == nullptr) {
    return absl::InvalidArgumentError(
        "mp codec: these bytes cannot carry OS handles");
  }
  return handles_->Take(*index);
}

absl::Status Decoder::Finish() const {
  if (!in_.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("mp codec: ", in_.size(), " unexpected trailing bytes"));
  }
  return absl::OkStatus();
}

}  // namespace mp
