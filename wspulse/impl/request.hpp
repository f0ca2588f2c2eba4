// wspulse_client — bodies of basic_client's request / acknowledge (issue 9 §2); the table of
// pending requests is detail/requests.hpp.
// SPDX-License-Identifier: MIT
#pragma once

#include <algorithm>  // std::max
#include <chrono>
#include <exception>
#include <memory>
#include <system_error>
#include <utility>

namespace wspulse {
namespace detail {

inline constexpr std::chrono::milliseconds max_request_timeout{10 * 60 * 1000};

// The timers of a table: one wake-up at a time is enough (the table says when the next is
// due). Weak references: a timer never keeps a finished client or its table alive.
inline void schedule_request_wake(const std::weak_ptr<core_interface>& core,
                                  const std::weak_ptr<request_table>& table,
                                  request_table::clock::time_point at) {
  const auto shared = core.lock();
  if (!shared) return;
  const auto delay = std::chrono::ceil<std::chrono::milliseconds>(
      at - request_table::clock::now());  // never early: the deadline must have passed
  shared->call_after(std::max(delay, std::chrono::milliseconds(0)), [core, table, at] {
    const auto live = table.lock();
    if (!live) return;
    if (auto next = live->wake(at)) schedule_request_wake(core, table, *next);
  });
}

inline request_table::completion future_completion(std::shared_ptr<std::promise<frame>> promise) {
  return [promise = std::move(promise)](const reason& failure, const frame& answer) {
    if (failure) {
      promise->set_exception(std::make_exception_ptr(request_error(failure)));
    } else {
      promise->set_value(answer);
    }
  };
}

}  // namespace detail

template <class C, class L, class B, class H, class X, class D, class M>
std::error_code basic_client<C, L, B, H, X, D, M>::start_request(
    detail::request_table::match how, std::string key, frame f, std::chrono::milliseconds timeout,
    detail::request_table::completion done) {
  using match = detail::request_table::match;
  if (!core_ || !requests_) return errc::connection_closed;
  if (timeout.count() <= 0 || timeout > detail::max_request_timeout)
    return std::make_error_code(std::errc::invalid_argument);
  frame echo;
  if (how == match::by_id) {
    if (f.id.empty()) f.id = requests_->unique_id();
    key = f.id;
    if (std::error_code ec = requests_->echo_of(f, echo)) return ec;  // it could not be sent
  } else if (key.empty() || !requests_->has_answer_key()) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  auto admitted = requests_->add(how, key, std::move(echo), timeout, std::move(done));
  if (admitted.refused) return admitted.refused;
  // Before the send: a wake-up that finds its request gone does nothing.
  if (admitted.wake) detail::schedule_request_wake(core_, requests_, *admitted.wake);
  if (std::error_code ec = core_->send(f, std::chrono::milliseconds(0))) {
    if (requests_->withdraw(how, key)) return ec;
    // The client finished meanwhile: the request already failed with that reason.
  }
  return {};
}

template <class C, class L, class B, class H, class X, class D, class M>
std::future<frame> basic_client<C, L, B, H, X, D, M>::request(frame f,
                                                              std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<frame>>();
  std::future<frame> answer = promise->get_future();
  if (std::error_code ec = start_request(detail::request_table::match::by_id, std::string(),
                                         std::move(f), timeout, detail::future_completion(promise)))
    promise->set_exception(std::make_exception_ptr(request_error(reason(ec))));
  return answer;
}

template <class C, class L, class B, class H, class X, class D, class M>
std::error_code basic_client<C, L, B, H, X, D, M>::request(frame f,
                                                           std::chrono::milliseconds timeout,
                                                           request_handler on_done) {
  if (!on_done) return std::make_error_code(std::errc::invalid_argument);
  return start_request(detail::request_table::match::by_id, std::string(), std::move(f), timeout,
                       std::move(on_done));
}

template <class C, class L, class B, class H, class X, class D, class M>
std::future<frame> basic_client<C, L, B, H, X, D, M>::request_keyed(
    std::string key, frame f, std::chrono::milliseconds timeout) {
  auto promise = std::make_shared<std::promise<frame>>();
  std::future<frame> answer = promise->get_future();
  if (std::error_code ec = start_request(detail::request_table::match::by_key, std::move(key),
                                         std::move(f), timeout, detail::future_completion(promise)))
    promise->set_exception(std::make_exception_ptr(request_error(reason(ec))));
  return answer;
}

template <class C, class L, class B, class H, class X, class D, class M>
std::error_code basic_client<C, L, B, H, X, D, M>::request_keyed(std::string key, frame f,
                                                                 std::chrono::milliseconds timeout,
                                                                 request_handler on_done) {
  if (!on_done) return std::make_error_code(std::errc::invalid_argument);
  return start_request(detail::request_table::match::by_key, std::move(key), std::move(f), timeout,
                       std::move(on_done));
}

}  // namespace wspulse
