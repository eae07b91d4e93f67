#pragma once
// CoverageLayers: what a view keeps of one object's state, one bit per chunk in each layer
// (SparseObject::copyCoverage fills the spans that changed). A pure value type.

#include "chunkbitmap.h"

namespace sparsescope {

struct CoverageLayers {
    ChunkBitmap present;      // the cache holds the chunk
    ChunkBitmap packed;       // of the present chunks, those whose bytes are in the cache's packs
    ChunkBitmap inFlight;     // queued or being transferred
    ChunkBitmap transferring; // of the in-flight chunks, those whose request runs
    ChunkBitmap errors;       // the chunk's last fetch failed
};

} // namespace sparsescope
