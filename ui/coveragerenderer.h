#pragma once
// CoverageRenderer: draws an object's coverage as a 2-D grid of cells into a QImage in device
// pixels. Every cell covers an equal span of bytes of the object (byte-space, so a short last
// chunk counts for what it is); when there are few enough chunks, a cell is exactly one chunk. A cell's colour comes from the exact fraction of its bytes that
// are present (a fractional-overlap box filter over the chunks it touches) through a 256-entry
// colour table; any error wins over in flight (a transfer over a queued request), which wins
// over the present shade. Cells changed
// in the last seconds glow and fade (fetched: a bright glow; evicted: the lost shade fading out). Pure: no widget, no I/O; callable from any one thread.
//
// Cost: O(chunks / 64 + pixels) for a full render — a 4 Mi-chunk object is a few ms.

#include "chunkbitmap.h"
#include "chunkgeometry.h"

#include <QColor>
#include <QImage>
#include <QRect>

#include <array>
#include <vector>

namespace sparsescope {

struct CoverageColors {
    QColor missing{0xe3, 0xe6, 0xea};
    QColor presentLight{0x9e, 0xc9, 0xe8}; // a few bytes present
    QColor presentFull{0x1f, 0x5f, 0xae};  // every byte present
    QColor inFlight{0xf2, 0xa3, 0x1b};     // being transferred
    QColor queued{0xf7, 0xd9, 0xa6};       // in flight, its request waiting for a connection
    QColor error{0xd6, 0x27, 0x28};
    QColor glow{0x7f, 0xf0, 0xd8};         // just fetched, fades into the present shade
    QColor packedLight{0xcd, 0xbf, 0xe6};  // present, mostly in the cache's packs: a few bytes
    QColor packedFull{0x5e, 0x3c, 0x99};   // ... every byte
    QColor background{0xff, 0xff, 0xff};
};

class CoverageRenderer {
public:
    CoverageRenderer();

    void setColors(const CoverageColors &colors);
    // Grid for an object of `geometry` in an area of `size` device pixels; `dpr` scales the
    // cell sizes (one chunk per cell at 6..48 logical px when that fits, else 8 px cells
    // aggregating many chunks).
    void setLayout(const ChunkGeometry &geometry, QSize size, qreal dpr);
    qint64 cellCount() const { return m_cells; }
    int columns() const { return m_cols; }
    int cellPixels() const { return m_cellPx; }
    QSize imageSize() const { return m_size; }

    ByteRange cellBytes(qint64 cell) const;              // the bytes a cell covers
    std::pair<qint64, qint64> cellsOfBytes(ByteRange range) const; // inclusive cells touching range
    std::pair<qint64, qint64> cellsOfChunks(qint64 first, qint64 last) const;
    qint64 cellAt(QPoint devicePixel) const;             // -1 outside the grid
    QRect cellRect(qint64 cell) const;                   // device pixels
    QList<QRect> spanRects(qint64 first, qint64 last) const; // cells [first, last], device pixels

    // Fraction [0, 1] of the cell's bytes present in `chunks` (box filter).
    double fraction(const ChunkBitmap &chunks, qint64 cell) const;

    struct Inputs {
        const ChunkBitmap *present = nullptr;
        const ChunkBitmap *inFlight = nullptr; // may be null
        const ChunkBitmap *errors = nullptr;   // may be null
        const std::vector<float> *glow = nullptr; // per cell, -1..1 (>0 just fetched, <0 just evicted); may be null
        const ChunkBitmap *transferring = nullptr; // the in-flight chunks being transferred; null: all of them
        const ChunkBitmap *packed = nullptr;       // the present chunks in the packs; may be null
    };
    // Renders cells [first, last] into `image` (imageSize(), Format_RGB32). Returns the
    // device-pixel rectangle that changed.
    QRect render(QImage &image, const Inputs &in, qint64 first, qint64 last) const;
    QRect renderAll(QImage &image, const Inputs &in) const { return render(image, in, 0, m_cells - 1); }

    // `queued`: in flight, but its request waits for a connection (drawn lighter than a transfer).
    // `packed`: most of the cell's present bytes are in the cache's packs (drawn in another hue).
    QRgb colorFor(double presentFraction, bool inFlight, bool error, float glow, bool queued = false, bool packed = false) const;

private:
    void fillRect(QImage &image, const QRect &r, QRgb color) const;

    CoverageColors m_colors;
    std::array<QRgb, 256> m_lut{};
    std::array<QRgb, 256> m_packedLut{};
    ChunkGeometry m_geometry;
    QSize m_size;
    int m_cellPx = 12;
    int m_gapPx = 1;
    int m_cols = 1;
    qint64 m_cells = 0;
};

} // namespace sparsescope
