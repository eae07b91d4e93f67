#pragma once
// EngineLink: how worker threads (network, I/O pool) hand results back to a SparseObject that may
// be destroyed meanwhile: an ObjectLink (handoff.h) to the object. post() queues a functor to the
// object's thread; after detach() (done by the object's destructor) posts are dropped, and Qt
// drops functors still queued for a deleted context object. Thread-safe.

#include "handoff.h"

namespace sparsescope {

using EngineLink = ObjectLink;

} // namespace sparsescope
