// wspulse_client — bodies of basic_client.
// SPDX-License-Identifier: MIT
#pragma once

#include <new>
#include <type_traits>
#include <utility>

namespace wspulse {

template <class C, class L, class B, class H, class X>
basic_client<C, L, B, H, X>& basic_client<C, L, B, H, X>::operator=(basic_client&& other) noexcept {
  if (this != &other) {
    close();
    core_ = std::move(other.core_);
    requests_ = std::move(other.requests_);  // request/ack (issue 9 §2)
  }
  return *this;
}

template <class C, class L, class B, class H, class X>
auto basic_client<C, L, B, H, X>::connect(std::string_view url, options&& opts, reason& why)
    -> std::shared_ptr<detail::core_interface> {
  detail::dial_url target;
  if (std::error_code ec = detail::normalize_url(url, target)) {
    why = reason(ec);
    return nullptr;
  }
  if (!target.secure) return start<detail::plain_endpoint>(std::move(target), std::move(opts), why);
#ifdef WSPULSE_CLIENT_ENABLE_TLS
  return start<detail::tls_endpoint>(std::move(target), std::move(opts), why);
#else
  why = reason(errc::tls_unavailable);  // never fall back to clear text
  return nullptr;
#endif
}

template <class C, class L, class B, class H, class X>
template <class Endpoint>
auto basic_client<C, L, B, H, X>::start(detail::dial_url&& target, options&& opts, reason& why)
    -> std::shared_ptr<detail::core_interface> {
  // Here, not per dial: once per client, however often it reconnects.
  if (!std::is_same_v<Endpoint, detail::plain_endpoint> && !opts.tls_verify() &&
      should_log(opts.logger(), log_level::warn))
    opts.logger().log(log_level::warn,
                      "TLS verification is off (tls_verify(false)): any server can impersonate "
                      "this one; use it only in development",
                      {{"url", redact_url(target.text)}});
  auto core = std::make_shared<core_type<Endpoint>>(std::move(target), std::move(opts));
  why = core->run_first_dial();
  if (why) return nullptr;
  return core;
}

template <class C, class L, class B, class H, class X>
basic_client<C, L, B, H, X> basic_client<C, L, B, H, X>::dial(std::string_view url, options opts) {
  reason why;
  auto requests = detail::attach_request_table<X>(opts);  // request/ack (issue 9 §2)
  auto core = connect(url, std::move(opts), why);
  if (!core) throw dial_error(std::move(why));
  return basic_client(std::move(core), std::move(requests));
}

template <class C, class L, class B, class H, class X>
basic_client<C, L, B, H, X> basic_client<C, L, B, H, X>::dial(std::string_view url, options opts,
                                                              reason& why) noexcept {
  try {
    why = reason{};
    auto requests = detail::attach_request_table<X>(opts);  // request/ack (issue 9 §2)
    auto core = connect(url, std::move(opts), why);
    return core ? basic_client(std::move(core), std::move(requests)) : basic_client();
  } catch (const std::bad_alloc&) {
    why = reason(std::make_error_code(std::errc::not_enough_memory));
  } catch (const std::system_error& ex) {
    why = reason(ex.code());
  } catch (...) {
    why = reason(errc::connection_lost);
  }
  return basic_client();
}

template <class C, class L, class B, class H, class X>
std::error_code basic_client<C, L, B, H, X>::send(frame f) {
  if (!core_) return errc::connection_closed;
  return core_->send(f, std::chrono::milliseconds(0));
}

template <class C, class L, class B, class H, class X>
std::error_code basic_client<C, L, B, H, X>::send_for(frame f, std::chrono::milliseconds timeout) {
  if (!core_) return errc::connection_closed;
  return core_->send(f, timeout);
}

template <class C, class L, class B, class H, class X>
void basic_client<C, L, B, H, X>::close() {
  if (core_) core_->close();
}

template <class C, class L, class B, class H, class X>
std::shared_future<void> basic_client<C, L, B, H, X>::done() const {
  if (core_) return core_->done();
  std::promise<void> ready;
  ready.set_value();
  return ready.get_future().share();
}

}  // namespace wspulse
