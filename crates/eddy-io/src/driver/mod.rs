//! The reactor: an I/O driver over `mio::Poll` (issue 6, being built).
