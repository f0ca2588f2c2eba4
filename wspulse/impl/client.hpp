// wspulse_client — bodies of basic_client.
// SPDX-License-Identifier: MIT
#pragma once

#include <new>
#include <type_traits>
#include <utility>

namespace wspulse {

#define WSPULSE_CLIENT_TEMPLATE \
  template <class C, class L, class B, class H, class X, class D, class M>
#define WSPULSE_CLIENT basic_client<C, L, B, H, X, D, M>

WSPULSE_CLIENT_TEMPLATE
WSPULSE_CLIENT& WSPULSE_CLIENT::operator=(basic_client&& other) noexcept {
  if (this != &other) {
    close();
    core_ = std::move(other.core_);
    requests_ = std::move(other.requests_);  // request/ack (issue 9 §2)
  }
  return *this;
}

WSPULSE_CLIENT_TEMPLATE
auto WSPULSE_CLIENT::make_core(std::string_view url, options&& opts, asio::io_context* io,
                               reason& why) -> core_ptr {
  detail::dial_url target;
  if (std::error_code ec = detail::normalize_url(url, target)) {
    why = reason(ec);
    return nullptr;
  }
  if (!target.secure)
    return std::make_shared<core_type<detail::plain_endpoint>>(std::move(target), std::move(opts),
                                                               io);
#ifdef WSPULSE_CLIENT_ENABLE_TLS
  // Here, not per dial: once per client, however often it reconnects.
  if (!opts.tls_verify() && should_log(opts.logger(), log_level::warn))
    opts.logger().log(log_level::warn,
                      "TLS verification is off (tls_verify(false)): any server can impersonate "
                      "this one; use it only in development",
                      {{"url", redact_url(target.text)}});
  return std::make_shared<core_type<detail::tls_endpoint>>(std::move(target), std::move(opts), io);
#else
  why = reason(errc::tls_unavailable);  // never fall back to clear text
  return nullptr;
#endif
}

WSPULSE_CLIENT_TEMPLATE
WSPULSE_CLIENT WSPULSE_CLIENT::dial_on(asio::io_context* io, std::string_view url, options&& opts,
                                       reason& why) noexcept {
  try {
    why = reason{};
    requests_ptr requests = detail::attach_request_table<X>(opts);  // request/ack (issue 9 §2)
    core_ptr core = make_core(url, std::move(opts), io, why);
    if (!core) return basic_client();
    why = core->run_first_dial();
    if (!why) return basic_client(std::move(core), std::move(requests));
  } catch (const std::bad_alloc&) {
    why = reason(std::make_error_code(std::errc::not_enough_memory));
  } catch (const std::system_error& ex) {
    why = reason(ex.code());
  } catch (...) {
    why = reason(errc::connection_lost);
  }
  return basic_client();
}

WSPULSE_CLIENT_TEMPLATE
WSPULSE_CLIENT WSPULSE_CLIENT::dial(std::string_view url, options opts) {
  reason why;
  basic_client c = dial_on(nullptr, url, std::move(opts), why);
  if (!c) throw dial_error(std::move(why));
  return c;
}

WSPULSE_CLIENT_TEMPLATE
WSPULSE_CLIENT WSPULSE_CLIENT::dial(std::string_view url, options opts, reason& why) noexcept {
  return dial_on(nullptr, url, std::move(opts), why);
}

WSPULSE_CLIENT_TEMPLATE
WSPULSE_CLIENT WSPULSE_CLIENT::dial(asio::io_context& io, std::string_view url, options opts) {
  reason why;
  basic_client c = dial_on(&io, url, std::move(opts), why);
  if (!c) throw dial_error(std::move(why));
  return c;
}

WSPULSE_CLIENT_TEMPLATE
WSPULSE_CLIENT WSPULSE_CLIENT::dial(asio::io_context& io, std::string_view url, options opts,
                                    reason& why) noexcept {
  return dial_on(&io, url, std::move(opts), why);
}

WSPULSE_CLIENT_TEMPLATE
template <class Handler>
void WSPULSE_CLIENT::async_dial(std::string_view url, options opts, Handler&& handler) {
  async_dial_on(nullptr, url, std::move(opts), std::forward<Handler>(handler));
}

WSPULSE_CLIENT_TEMPLATE
template <class Handler>
void WSPULSE_CLIENT::async_dial(asio::io_context& io, std::string_view url, options opts,
                                Handler&& handler) {
  async_dial_on(&io, url, std::move(opts), std::forward<Handler>(handler));
}

WSPULSE_CLIENT_TEMPLATE
template <class Handler>
void WSPULSE_CLIENT::async_dial_on(asio::io_context* io, std::string_view url, options&& opts,
                                   Handler&& handler) {
  using handler_type = std::decay_t<Handler>;
  static_assert(std::is_invocable_v<handler_type&, reason, basic_client>,
                "wspulse: async_dial's handler is called as handler(reason, basic_client)");
  auto h = std::make_shared<handler_type>(std::forward<Handler>(handler));
  auto fail = [io, h](reason why) {
    if (io == nullptr) return (*h)(std::move(why), basic_client());
    asio::post(*io, [h, why = std::move(why)]() mutable { (*h)(std::move(why), basic_client()); });
  };
  reason why;
  requests_ptr requests = detail::attach_request_table<X>(opts);  // request/ack (issue 9 §2)
  core_ptr core = make_core(url, std::move(opts), io, why);
  if (!core) return fail(std::move(why));
  why = core->start([h, requests](reason outcome, core_ptr engine) {
    (*h)(std::move(outcome), engine ? basic_client(std::move(engine), requests) : basic_client());
  });
  if (why) fail(std::move(why));
}

WSPULSE_CLIENT_TEMPLATE
std::error_code WSPULSE_CLIENT::send(frame f) {
  if (!core_) return errc::connection_closed;
  return core_->send(f, std::chrono::milliseconds(0));
}

WSPULSE_CLIENT_TEMPLATE
std::error_code WSPULSE_CLIENT::send_for(frame f, std::chrono::milliseconds timeout) {
  if (!core_) return errc::connection_closed;
  return core_->send(f, timeout);
}

WSPULSE_CLIENT_TEMPLATE
void WSPULSE_CLIENT::close() {
  if (core_) core_->close();
}

WSPULSE_CLIENT_TEMPLATE
template <class Handler>
void WSPULSE_CLIENT::async_close(Handler&& handler) {
  static_assert(std::is_invocable_v<std::decay_t<Handler>&>,
                "wspulse: async_close's handler is called as handler()");
  auto h = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(handler));
  if (!core_) return (*h)();
  core_->async_close([h] { (*h)(); });
}

WSPULSE_CLIENT_TEMPLATE
std::shared_future<void> WSPULSE_CLIENT::done() const {
  if (core_) return core_->done();
  std::promise<void> ready;
  ready.set_value();
  return ready.get_future().share();
}

#undef WSPULSE_CLIENT
#undef WSPULSE_CLIENT_TEMPLATE

}  // namespace wspulse
