#pragma once
// Result<T>: an expected-style value-or-error that crosses layer boundaries instead of exceptions
// (docs/ARCHITECTURE.md; the project DESIGN notes, "Conventions"). An Error carries a category and one human-readable line that names
// what failed (object, byte range) and what the user can do.

#include <QString>

#include <utility>
#include <variant>

namespace sparsescope {

enum class ErrorKind {
    Usage,      // the caller asked for something invalid (bad range, bad option)
    Upstream,   // the source misbehaved or is unreachable (HTTP status, network, protocol violation)
    Changed,    // the object changed upstream (validator or size no longer matches)
    Integrity,  // a checksum or a cache record did not verify
    LocalIo,    // the local disk or cache directory failed (ENOSPC, EACCES, fsync failure, ...)
    Cancelled,  // the operation was cancelled by its caller
};

struct Error {
    ErrorKind kind = ErrorKind::LocalIo;
    QString message;
    bool retryable = false; // a transient failure (connection reset, timeout, 5xx, 429): worth retrying
    qint64 retryAfterMs = -1; // the server's Retry-After (RFC 9110 §10.2.3) in milliseconds, -1 if none
};

inline Error makeError(ErrorKind kind, QString message) { return Error{kind, std::move(message)}; }

// Result<T> holds either a T or an Error. Default-constructed it holds an Error ("no result"),
// so that it can travel through QFuture, which needs default-constructible values.
template <typename T>
class [[nodiscard]] Result {
public:
    Result() : m_value(Error{ErrorKind::Cancelled, QStringLiteral("no result")}) {}
    Result(T value) : m_value(std::move(value)) {}
    Result(Error error) : m_value(std::move(error)) {}

    bool ok() const { return m_value.index() == 0; }
    explicit operator bool() const { return ok(); }
    const T &value() const & { return std::get<0>(m_value); }
    T &value() & { return std::get<0>(m_value); }
    T &&value() && { return std::get<0>(std::move(m_value)); }
    const T &operator*() const & { return value(); }
    const T *operator->() const { return &value(); }
    const Error &error() const { return std::get<1>(m_value); }
    Error &errorRef() { return std::get<1>(m_value); }

private:
    std::variant<T, Error> m_value;
};

// Result<void>: success or an Error.
struct Ok {};
using Status = Result<Ok>;
inline Status okStatus() { return Ok{}; }

} // namespace sparsescope
