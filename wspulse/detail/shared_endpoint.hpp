// wspulse_client — one websocketpp endpoint per io_context, shared by every client on it.
// A websocketpp client endpoint costs ~2.7 KiB (1.1 KiB of handlers and loggers, 1.6 KiB on
// the heap) and holds no per-client state here: host lookups and TLS contexts are the
// client's. Clients on one io_context run on its one thread, so sharing needs no lock.
// Owned by an Asio service, the endpoint lives as long as its io_context: a websocketpp handler
// still queued when the last client goes (it holds the endpoint by raw pointer) never finds it
// gone.
// SPDX-License-Identifier: MIT
#pragma once

#include "../version.hpp"
#include "transport.hpp"

#include <asio/io_context.hpp>

namespace wspulse {
namespace detail {

template <class Endpoint>
class shared_endpoint final : public asio::io_context::service {
 public:
  static inline asio::io_context::id id;  // the service's key (works without RTTI)

  explicit shared_endpoint(asio::io_context& io) : asio::io_context::service(io) {
    endpoint_.init_asio(&io);
    endpoint_.set_user_agent("wspulse-client-cpp/" WSPULSE_CLIENT_VERSION_STRING);
  }

  /// The io_context's service (created with the first client on it).
  static shared_endpoint& of(asio::io_context& io) {
    return asio::use_service<shared_endpoint>(io);
  }
  Endpoint& endpoint() noexcept { return endpoint_; }
  /// Masking keys for the frames the clients prepare (frame_writer), drawn from the OS in blocks.
  masking_key_source& keys() noexcept { return keys_; }

 private:
  void shutdown() override {}

  Endpoint endpoint_;
  masking_key_source keys_;
};

}  // namespace detail
}  // namespace wspulse
