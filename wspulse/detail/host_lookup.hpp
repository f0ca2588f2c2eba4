// wspulse_client — host-name lookup on a detached thread, one per dial.
// Asio's resolver runs getaddrinfo on one thread per io_context that the io_context joins when
// it is destroyed: a lookup stuck for seconds would then hold dial(), close() and the
// destructor hostage. A detached lookup holds nothing of the client: it posts its result
// through a gate that the client shuts before it goes away; a result nobody waits for is freed.
// The lookup belongs to the client, not to websocketpp's endpoint, which clients on one
// io_context share (detail/shared_endpoint.hpp).
// SPDX-License-Identifier: MIT
#pragma once

#include "start_thread.hpp"

#include <websocketpp/transport/base/endpoint.hpp>  // connect_handler

#include <asio/error.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>

#include <netdb.h>  // getaddrinfo

#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <utility>

namespace wspulse {
namespace detail {

// Where a detached lookup posts its result. On an application's io_context the client may be
// gone before a posted result runs: the result runs only while its owner (the client engine)
// can still be locked.
class resolve_gate {
 public:
  resolve_gate(asio::io_context& io, std::weak_ptr<const void> owner)
      : io_(&io), owner_(std::move(owner)) {}
  template <class Handler>
  void post(Handler&& h) {
    std::lock_guard<std::mutex> lock(mu_);
    if (io_ != nullptr) asio::post(*io_, std::forward<Handler>(h));
  }
  void shut() {
    std::lock_guard<std::mutex> lock(mu_);
    io_ = nullptr;
  }
  /// Keeps the owner alive while a result is handed over; empty when it is gone.
  std::shared_ptr<const void> lock_owner() const noexcept { return owner_.lock(); }

 private:
  std::mutex mu_;
  asio::io_context* io_;
  const std::weak_ptr<const void> owner_;
};

struct addrinfo_deleter {
  void operator()(::addrinfo* ai) const noexcept {
    if (ai != nullptr) ::freeaddrinfo(ai);
  }
};
using addrinfo_ptr = std::unique_ptr<::addrinfo, addrinfo_deleter>;

// getaddrinfo's EAI_* codes as the Asio errors its own resolver would report.
inline std::error_code resolve_error(int gai, int saved_errno) {
  switch (gai) {
    case 0: return {};
#ifdef EAI_NODATA
    case EAI_NODATA:
#endif
    case EAI_NONAME: return asio::error::host_not_found;
    case EAI_AGAIN: return asio::error::host_not_found_try_again;
    case EAI_SERVICE: return asio::error::service_not_found;
    case EAI_MEMORY: return std::make_error_code(std::errc::not_enough_memory);
    case EAI_SYSTEM: return std::error_code(saved_errno, std::system_category());
    default: return asio::error::no_recovery;
  }
}

/// One client's lookups (one dial at a time), handed back to the endpoint that asked, on the
/// I/O thread. Endpoint: observed_endpoint (detail/transport.hpp), which calls start() from its
/// async_connect and receives the result through resolved().
template <class Endpoint>
class host_lookup {
 public:
  using transport_con_ptr = typename Endpoint::transport_con_ptr;

  host_lookup() = default;
  host_lookup(const host_lookup&) = delete;
  host_lookup& operator=(const host_lookup&) = delete;
  ~host_lookup() {
    if (gate_) gate_->shut();
  }

  /// Who owns this lookup: a result is handed over only while the owner can be locked.
  void set_owner(std::weak_ptr<const void> owner) noexcept { owner_ = std::move(owner); }

  /// Looks up host:port on a thread of its own; the endpoint gets the result, or the error.
  void start(Endpoint& endpoint, transport_con_ptr tcon, websocketpp::transport::connect_handler cb,
             std::string host, std::string port) {
    if (!gate_) gate_ = std::make_shared<resolve_gate>(endpoint.get_io_service(), owner_);
    const std::uint64_t id = ++lookups_;
    pending_.reset(new pending{id, &endpoint, std::move(tcon), std::move(cb), host, port});
    try {
      start_thread([gate = gate_, self = this, id, host = std::move(host), port = std::move(port)] {
        ::addrinfo hints{};
        hints.ai_family = AF_UNSPEC;
        hints.ai_socktype = SOCK_STREAM;
        hints.ai_protocol = IPPROTO_TCP;
        hints.ai_flags = AI_ADDRCONFIG;
        ::addrinfo* found = nullptr;
        const int gai = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
        auto result = std::make_shared<addrinfo_ptr>(found);
        const std::error_code lookup_ec = resolve_error(gai, errno);
        // Runs on the I/O thread, and only while the owner lives (the gate is shut first).
        gate->post([gate, self, id, result, lookup_ec] {
          if (auto owner = gate->lock_owner()) self->done(id, result->get(), lookup_ec);
        });
      }).detach();
    } catch (const std::system_error& ex) {  // no thread to be had: the dial fails, clearly
      const std::unique_ptr<pending> failed = std::move(pending_);
      failed->cb(ex.code());
    }
  }

  /// Forgets the lookup in flight, if any: its result, whenever it comes, is dropped.
  void cancel() noexcept { pending_.reset(); }

 private:
  struct pending {
    std::uint64_t id;
    Endpoint* endpoint;  // outlives the client (shared_endpoint: as long as its io_context)
    transport_con_ptr tcon;
    websocketpp::transport::connect_handler cb;
    std::string host, port;
  };

  void done(std::uint64_t id, ::addrinfo* found, std::error_code ec) {
    if (!pending_ || pending_->id != id) return;  // abandoned
    const std::unique_ptr<pending> p = std::move(pending_);
    auto results = ec || found == nullptr
                       ? asio::ip::tcp::resolver::results_type()
                       : asio::ip::tcp::resolver::results_type::create(found, p->host, p->port);
    if (!ec && results.empty()) ec = asio::error::host_not_found;
    p->endpoint->resolved(std::move(p->tcon), std::move(p->cb), ec, results);
  }

  std::weak_ptr<const void> owner_;
  std::shared_ptr<resolve_gate> gate_;
  std::unique_ptr<pending> pending_;  // on the heap: most dials need no lookup
  std::uint64_t lookups_ = 0;
};

}  // namespace detail
}  // namespace wspulse
