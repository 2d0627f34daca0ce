"""Thread-safety overlay for _socket, where typeshed defines the socket
class that socket.socket extends.
"""

from fearless import unsafe_sync


@unsafe_sync
class socket:
    """every operation is one system call on the descriptor, as for Rust's TcpStream, which is Sync: servers share a socket between the thread that accepts or reads and the one that closes it"""
