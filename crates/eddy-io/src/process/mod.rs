//! Subprocesses: asyncio's create_subprocess_exec / _shell (issue 8, being built).
