// wspulse_client — detail::client_core's callback side: the events in order, the user's
// callbacks, the codec's decode. On the callback thread (callback_thread policy) or inline on
// the I/O thread (inline_callbacks), where the caller holds a reference to the engine.
// SPDX-License-Identifier: MIT
#pragma once

namespace wspulse {
namespace detail {

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::post_event(event e) {
  if constexpr (inline_callbacks) {
    if (events_closed_) return;  // nothing after on_disconnect
    events_closed_ = e.last();
    thread_local frame scratch;
    handle(e, scratch);
  } else {
    events_.push(std::move(e));
  }
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::callback_loop() {
  std::deque<event> batch;  // taken under one lock: one wake-up serves every waiting event
  frame scratch;            // reused by deliver(): decoding keeps the strings' capacity
  for (;;) {
    events_.take(batch, spin_of<Dispatch>::value);
    std::size_t frames = 0;
    std::size_t bytes = 0;
    for (event& e : batch) {
      if (e.what == event::kind::message) {
        ++frames;
        bytes += e.data.size();
      }
      if (handle(e, scratch)) return;
    }
    batch.clear();
    if (frames > 0 && events_.handled(frames, bytes))
      post_io([](client_core& core) { core.resume_reading(); });
  }
}

WSPULSE_CORE_TEMPLATE
bool WSPULSE_CORE::handle(event& e, frame& scratch) {
  switch (e.what) {
    case event::kind::message: deliver(e.data, e.transport, scratch); return false;
    case event::kind::dialed: complete_dial(reason{}); return false;
    case event::kind::drop: invoke("on_transport_drop", opts_.drop_callback(), e.why); return false;
    case event::kind::restore:
      invoke("on_transport_restore", opts_.restore_callback());
      return false;
    case event::kind::redial: run_reconnect_hook(e); return false;
    case event::kind::call: invoke("request timer", e.call); return false;  // issue 9 §2
    case event::kind::disconnect:
      invoke("on_disconnect", opts_.disconnect_callback(), e.why);
      break;
    case event::kind::stop: complete_dial(std::move(e.why)); break;
  }
  std::vector<std::function<void()>> then;  // async_close continuations
  {
    std::lock_guard<std::mutex> lock(mu_);
    disconnected_ = true;
    then.swap(after_done_);
  }
  for (const auto& fn : then) invoke("async_close handler", fn);
  return true;
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::complete_dial(reason why) {
  dial_completion completion = std::move(on_dialed_);
  on_dialed_ = nullptr;
  std::shared_ptr<core_interface> engine;
  if (!why) engine = this->shared_from_this();
  invoke("dial completion", completion, std::move(why), std::move(engine));
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::run_reconnect_hook(event& e) {
  std::string url = std::move(e.data);
  header_list headers = std::move(e.headers);
  reason failure;
  try {
    opts_.reconnect_callback()(url, headers);
    for (const auto& [name, value] : headers) validate_header(name, value);
  } catch (const std::exception& ex) {  // a failed attempt, like a refused dial
    failure = reason(errc::callback_failed);
    failure.detail = std::string("before_reconnect: ") + ex.what();
  } catch (...) {
    failure = reason(errc::callback_failed);
    failure.detail = "before_reconnect: unknown exception";
  }
  dial_url next;
  if (!failure && (normalize_url(url, next) || next.secure != url_.secure)) {
    failure = reason(errc::invalid_url);
    failure.detail = "before_reconnect set an invalid URL or changed ws:// vs wss://";
  }
  if (failure && logs(log_level::error))
    log(log_level::error, "before_reconnect failed",
        {{"url", cb_log_url_}, {"reason", failure.message()}});
  if constexpr (Logger::enabled)
    if (!failure) cb_log_url_ = redact_url(next.text);
  post_io([next = std::move(next), headers = std::move(headers),
           failure = std::move(failure)](client_core& core) mutable {
    core.redial(std::move(next), std::move(headers), std::move(failure));
  });
}

WSPULSE_CORE_TEMPLATE
void WSPULSE_CORE::deliver(const std::string& data, std::uint64_t transport, frame& f) {
  std::error_code ec;
  try {
    opts_.codec().decode(data, f, ec);
  } catch (const std::exception& ex) {  // a throwing codec loses that message, like bad JSON
    if (logs(log_level::warn))
      log(log_level::warn, "codec threw: dropping message",
          {{"url", cb_log_url_}, {"what", ex.what()}, {"bytes", data.size()}});
    metric([](auto& m) { m.message_dropped(drop_cause::decode_failed); });
    return;
  } catch (...) {
    if (logs(log_level::warn))
      log(log_level::warn, "codec threw: dropping message",
          {{"url", cb_log_url_}, {"what", "unknown exception"}, {"bytes", data.size()}});
    metric([](auto& m) { m.message_dropped(drop_cause::decode_failed); });
    return;
  }
  if (ec) {
    if (logs(log_level::warn))
      log(log_level::warn, "dropping undecodable message",
          {{"url", cb_log_url_}, {"error", ec.message()}, {"bytes", data.size()}});
    metric([](auto& m) { m.message_dropped(drop_cause::decode_failed); });
    return;
  }
  const auto& fn = opts_.message_callback();
  if (!fn) return;
  try {
    fn(f);
    return;
  } catch (const std::exception& ex) {
    if (logs(log_level::error))
      log(log_level::error, "on_message threw", {{"url", cb_log_url_}, {"what", ex.what()}});
  } catch (...) {
    if (logs(log_level::error))
      log(log_level::error, "on_message threw",
          {{"url", cb_log_url_}, {"what", "unknown exception"}});
  }
  // Like the Go client's panic recovery: the transport is dropped, the process survives.
  post_io([transport](client_core& core) {
    if (core.is_current(transport)) core.drop_transport(errc::callback_failed);
  });
}

WSPULSE_CORE_TEMPLATE
bool WSPULSE_CORE::stops_on_close_code(std::uint16_t code) {
  const auto& pred = opts_.stop_close_code();
  if (!pred) return false;
  try {
    return pred(code);
  } catch (...) {  // a failing predicate says "no": the client goes on
    if (logs(log_level::error)) log(log_level::error, "stop_on_close_code threw", {});
    return false;
  }
}

WSPULSE_CORE_TEMPLATE
template <class Fn, class... Args>
void WSPULSE_CORE::invoke(const char* which, const Fn& fn, Args&&... args) {
  if (!fn) return;
  try {
    fn(std::forward<Args>(args)...);
  } catch (const std::exception& ex) {
    if (logs(log_level::error))
      log(log_level::error, "callback threw", {{"callback", which}, {"what", ex.what()}});
  } catch (...) {
    if (logs(log_level::error))
      log(log_level::error, "callback threw", {{"callback", which}, {"what", "unknown exception"}});
  }
}

#undef WSPULSE_CORE
#undef WSPULSE_CORE_TEMPLATE

}  // namespace detail
}  // namespace wspulse
