// Clean shutdown on SIGTERM/SIGINT without async-signal-unsafe handlers: block
// the signals before any thread starts (threads inherit the mask), then wait
// for one synchronously on the main thread.
#pragma once

namespace shoal {
void BlockShutdownSignals();
// Returns the signal number received.
int WaitForShutdownSignal();
}  // namespace shoal
