// wspulse_client — router: Gin-style middleware and per-event handlers for received frames,
// the client-side counterpart of the Go core/router. Typical use:
//   router r;
//   r.use(router::recovery()).on("chat.message", [](router::context& c) { … });
//   opts.on_message([&r](const frame& f) { r.dispatch(f); });
// SPDX-License-Identifier: MIT
#pragma once

#include "config.hpp"
#include "frame.hpp"

#include <any>
#include <cstddef>
#include <exception>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace wspulse {

/// Routes frames by `event` through middleware (use) and handlers (on). Registration is not
/// thread-safe; dispatch() is const and may run on several threads once registration is done.
class router {
 public:
  class context;
  using handler = std::function<void(context&)>;
  using error_handler = std::function<void(context&, std::exception_ptr)>;

  /// The state of one dispatch: the frame, the chain position, and per-dispatch values.
  class context {
   public:
    const wspulse::frame& frame;  ///< the frame being dispatched

    /// Runs the rest of the chain now (middleware calls it to wrap what follows).
    void next() {
      for (++index_; index_ < size() && !aborted_; ++index_) at(index_)(*this);
    }
    /// Stops the chain: no handler after the current one runs.
    void abort() noexcept { aborted_ = true; }
    bool aborted() const noexcept { return aborted_; }

    /// Stores a value for later handlers of this dispatch.
    void set(std::string key, std::any value) { values_[std::move(key)] = std::move(value); }
    /// The value stored under key, or nullptr.
    const std::any* get(std::string_view key) const {
      const auto it = values_.find(key);
      return it == values_.end() ? nullptr : &it->second;
    }
    /// The value under key if it holds a T, else nullptr.
    template <class T>
    const T* get_as(std::string_view key) const {
      const std::any* v = get(key);
      return v ? std::any_cast<T>(v) : nullptr;
    }

   private:
    friend class router;
    context(const wspulse::frame& f, const std::vector<handler>& middleware,
            const std::vector<handler>& handlers)
        : frame(f), middleware_(middleware), handlers_(handlers) {}
    std::size_t size() const noexcept { return middleware_.size() + handlers_.size(); }
    const handler& at(std::size_t i) const {
      return i < middleware_.size() ? middleware_[i] : handlers_[i - middleware_.size()];
    }

    const std::vector<handler>& middleware_;
    const std::vector<handler>& handlers_;
    std::size_t index_ = static_cast<std::size_t>(-1);
    bool aborted_ = false;
    std::map<std::string, std::any, std::less<>> values_;
  };

  /// Adds middleware that runs, in order, before the handlers of every dispatch.
  router& use(handler middleware) {
    require(middleware, "middleware");
    middleware_.push_back(std::move(middleware));
    return *this;
  }

  /// Registers the handler chain of an event. Throws std::invalid_argument for an empty event,
  /// an event registered before, no handler, or an empty handler.
  template <class... Handlers>
  router& on(std::string event, handler first, Handlers&&... more) {
    if (event.empty()) throw std::invalid_argument("wspulse: router event must not be empty");
    if (routes_.count(event) != 0)
      throw std::invalid_argument("wspulse: router event '" + event + "' is already registered");
    std::vector<handler> chain{std::move(first), handler(std::forward<Handlers>(more))...};
    for (const handler& h : chain) require(h, "handler");
    routes_.emplace(std::move(event), std::move(chain));
    return *this;
  }

  /// Handles frames whose event has no route (and frames without event). Default: none.
  router& fallback(handler h) {
    require(h, "fallback");
    fallback_ = {std::move(h)};
    return *this;
  }

  /// Runs middleware then the frame's handlers (or the fallback). Exceptions propagate unless
  /// a recovery() middleware catches them. Returns false when nothing handled the frame.
  bool dispatch(const wspulse::frame& f) const {
    const auto it = routes_.find(f.event);
    const std::vector<handler>& handlers = it != routes_.end() ? it->second : fallback_;
    if (handlers.empty()) return false;
    context c(f, middleware_, handlers);
    c.next();
    return true;
  }

  /// Middleware that catches an exception from the rest of the chain, aborts it, and reports it
  /// to on_error (if given): the Go router's Recovery().
  static handler recovery(error_handler on_error = {}) {
    return [on_error = std::move(on_error)](context& c) {
      try {
        c.next();
      } catch (...) {
        c.abort();
        if (on_error) on_error(c, std::current_exception());
      }
    };
  }

 private:
  static void require(const handler& h, const char* what) {
    if (!h)
      throw std::invalid_argument(std::string("wspulse: router ") + what + " must not be empty");
  }

  std::vector<handler> middleware_;
  std::map<std::string, std::vector<handler>, std::less<>> routes_;
  std::vector<handler> fallback_;
};

}  // namespace wspulse
