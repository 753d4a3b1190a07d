// A Gloo process group as one small C++ class, so that JavaCPP maps it with no C++ templates in sight.
// Gloo is the collective library behind torch.distributed's CPU backend; Debian ships it as libgloo-dev.
#pragma once

#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/broadcast.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/file_store.h>
#include <gloo/rendezvous/prefix_store.h>
#include <gloo/transport/tcp/device.h>

#include <chrono>
#include <memory>
#include <string>

namespace sluice {

class GlooGroup {
 public:
  // Meets the other ranks through files under storeDir (a directory every rank sees), keyed by prefix so that a
  // restarted attempt never reads an earlier attempt's addresses; listens on host's interface.
  GlooGroup(const std::string& storeDir, const std::string& prefix, int rank, int size, const std::string& host,
            long timeoutMs) {
    gloo::rendezvous::FileStore files(storeDir);
    gloo::rendezvous::PrefixStore store(prefix, files);
    gloo::transport::tcp::attr attr(host.c_str());
    auto device = gloo::transport::tcp::CreateDevice(attr);
    context_ = std::make_shared<gloo::rendezvous::Context>(rank, size);
    context_->setTimeout(std::chrono::milliseconds(timeoutMs));
    context_->connectFullMesh(store, device);
  }

  int rank() const { return context_->rank; }
  int size() const { return context_->size; }

  // Sums n floats at data over every rank, in place. Gloo has no average: the caller scales.
  void allreduceSum(float* data, long n) { allreduce<float>(data, n); }
  void allreduceSum(double* data, long n) { allreduce<double>(data, n); }

  // Copies root's n bytes at data to every other rank.
  void broadcast(void* data, long n, int root) {
    gloo::BroadcastOptions options(context_);
    options.setOutput(static_cast<char*>(data), static_cast<size_t>(n));
    options.setRoot(root);
    options.setTag(nextTag());
    gloo::broadcast(options);
  }

  void barrier() {
    gloo::BarrierOptions options(context_);
    options.setTag(nextTag());
    gloo::barrier(options);
  }

 private:
  template <typename T>
  void allreduce(T* data, long n) {
    gloo::AllreduceOptions options(context_);
    options.setOutput(data, static_cast<size_t>(n));
    options.setReduceFunction(static_cast<void (*)(void*, const void*, const void*, size_t)>(&gloo::sum<T>));
    options.setTag(nextTag());
    gloo::allreduce(options);
  }

  // Every rank issues the same collectives in the same order, so a counter gives them matching tags.
  uint32_t nextTag() { return tag_++; }

  std::shared_ptr<gloo::rendezvous::Context> context_;
  uint32_t tag_ = 0;
};

}  // namespace sluice
