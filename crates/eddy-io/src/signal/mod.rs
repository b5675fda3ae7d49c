//! Signals: asyncio's add_signal_handler (issue 8, being built).
