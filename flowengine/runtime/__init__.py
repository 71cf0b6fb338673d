"""Running calls: the engine (`engine`), the run loop (`interpreter`), per-call
state (`context`), and clocks (`clock` for wall time, `virtual_loop` for the
simulated-time event loop)."""
