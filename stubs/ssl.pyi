"""Thread-safety overlay for ssl."""

from fearless import unsafe_sync


@unsafe_sync
class SSLContext:
    """a context is configured once, then shared by the connections of every thread (OpenSSL's SSL_CTX is thread-safe; Rust's SslContext is Sync)"""
