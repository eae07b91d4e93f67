#pragma once
// TemporaryFiles: the process's temporary files (AtomicFile's hidden names), so that a program
// stopped by SIGINT or SIGTERM can remove them before it dies and leave nothing half-written
// beside its targets. Registration and removal are lock-free (a fixed table of atomic slots);
// removeAllFromSignalHandler() uses only async-signal-safe calls (unlink(2), nanosleep(2); see
// signal-safety(7)).
//
// Thread affinity: any thread.

namespace sparsescope::temporaryfiles {

// Marks the start and end of a window in which a temporary file is being created or renamed and
// its registration is being changed; a signal handler waits (at most 200 ms) for open windows.
void beginChange();
void endChange();

// Registers `path` (copied); returns a slot for unregister(), or -1 when the table is full (the
// file then simply is not cleaned up on a signal).
int registerPath(const char *path);
void unregisterPath(int slot);

// Unlinks every registered path. For signal handlers.
void removeAllFromSignalHandler();

// Installs handlers for SIGINT, SIGTERM and SIGHUP that remove every registered temporary file
// and then die of the same signal (so the parent sees the usual status, e.g. 130 for SIGINT).
void removeOnTerminationSignals();

} // namespace sparsescope::temporaryfiles
