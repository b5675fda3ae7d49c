//! TCP, UDP and Unix sockets (issue 6, being built).
