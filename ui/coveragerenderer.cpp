#include "coveragerenderer.h"

#include <cmath>

namespace sparsescope {

namespace {
__extension__ typedef __int128 Wide; // byte offset x cell count can exceed 64 bits

QRgb mix(QColor a, QColor b, double t)
{
    return qRgb(int(a.red() + (b.red() - a.red()) * t), int(a.green() + (b.green() - a.green()) * t),
                int(a.blue() + (b.blue() - a.blue()) * t));
}
} // namespace

CoverageRenderer::CoverageRenderer() { setColors(CoverageColors{}); }

void CoverageRenderer::setColors(const CoverageColors &colors)
{
    m_colors = colors;
    m_lut[0] = colors.missing.rgb();
    m_packedLut[0] = colors.missing.rgb();
    for (int i = 1; i < 256; ++i) {
        m_lut[size_t(i)] = mix(colors.presentLight, colors.presentFull, double(i - 1) / 254.0);
        m_packedLut[size_t(i)] = mix(colors.packedLight, colors.packedFull, double(i - 1) / 254.0);
    }
}

void CoverageRenderer::setLayout(const ChunkGeometry &geometry, QSize size, qreal dpr)
{
    m_geometry = geometry;
    m_size = size;
    m_gapPx = std::max(1, int(std::round(dpr)));
    const qint64 chunks = std::max<qint64>(1, geometry.chunkCount());
    auto fits = [&](int px, qint64 cells) {
        const qint64 cols = std::max(1, size.width() / px);
        return ((cells + cols - 1) / cols) * px <= size.height();
    };
    // One chunk per cell, as large as fits (6..48 logical px); otherwise 8 px cells that
    // fill the area, each covering many chunks.
    const int largest = int(std::round(48 * dpr)), smallest = int(std::round(6 * dpr));
    m_cellPx = 0;
    for (int px = largest; px >= smallest; --px) {
        if (fits(px, chunks)) {
            m_cellPx = px;
            break;
        }
    }
    if (m_cellPx > 0) {
        m_cols = std::max(1, size.width() / m_cellPx);
        m_cells = chunks;
    } else {
        m_cellPx = int(std::round(8 * dpr));
        m_cols = std::max(1, size.width() / m_cellPx);
        m_cells = std::min<qint64>(chunks, qint64(m_cols) * std::max(1, size.height() / m_cellPx));
    }
    if (geometry.objectSize == 0)
        m_cells = 0;
}

ByteRange CoverageRenderer::cellBytes(qint64 cell) const
{
    if (m_cells == m_geometry.chunkCount())
        return m_geometry.chunkRange(cell); // one chunk per cell: exactly that chunk
    const qint64 size = m_geometry.objectSize;
    // Integer split of [0, size) into m_cells equal spans (wide arithmetic: size x cells overflows 64 bits).
    auto edge = [&](qint64 i) { return qint64((Wide(size) * i) / m_cells); };
    return {edge(cell), edge(cell + 1)};
}

std::pair<qint64, qint64> CoverageRenderer::cellsOfBytes(ByteRange range) const
{
    if (m_cells == 0 || range.isEmpty())
        return {0, -1};
    if (m_cells == m_geometry.chunkCount())
        return m_geometry.chunksTouching(range);
    const qint64 size = m_geometry.objectSize;
    auto cellOf = [&](qint64 byte) { return std::min<qint64>(m_cells - 1, qint64((Wide(byte) * m_cells) / size)); };
    qint64 a = cellOf(range.begin), b = cellOf(range.end - 1);
    // Integer edges may put a byte one cell off: settle it against cellBytes().
    while (a > 0 && cellBytes(a).begin > range.begin)
        --a;
    while (b + 1 < m_cells && cellBytes(b).end <= range.end - 1)
        ++b;
    return {a, b};
}

std::pair<qint64, qint64> CoverageRenderer::cellsOfChunks(qint64 first, qint64 last) const
{
    return cellsOfBytes(m_geometry.chunkSpan(first, last));
}

qint64 CoverageRenderer::cellAt(QPoint p) const
{
    if (p.x() < 0 || p.y() < 0 || p.x() >= m_cols * m_cellPx)
        return -1;
    const qint64 cell = qint64(p.y() / m_cellPx) * m_cols + p.x() / m_cellPx;
    return cell < m_cells ? cell : -1;
}

QList<QRect> CoverageRenderer::spanRects(qint64 first, qint64 last) const
{
    // Cells [first, last] in row-major order form at most three rectangles.
    QList<QRect> out;
    if (first > last || m_cells == 0)
        return out;
    const int r0 = int(first / m_cols), c0 = int(first % m_cols);
    const int r1 = int(last / m_cols), c1 = int(last % m_cols);
    auto rect = [&](int row0, int col0, int row1, int col1) {
        return QRect(col0 * m_cellPx, row0 * m_cellPx, (col1 - col0 + 1) * m_cellPx - m_gapPx, (row1 - row0 + 1) * m_cellPx - m_gapPx);
    };
    if (r0 == r1) {
        out.append(rect(r0, c0, r0, c1));
        return out;
    }
    out.append(rect(r0, c0, r0, m_cols - 1));
    if (r1 - r0 > 1)
        out.append(rect(r0 + 1, 0, r1 - 1, m_cols - 1));
    out.append(rect(r1, 0, r1, c1));
    return out;
}

QRect CoverageRenderer::cellRect(qint64 cell) const
{
    const int row = int(cell / m_cols), col = int(cell % m_cols);
    return QRect(col * m_cellPx, row * m_cellPx, m_cellPx - m_gapPx, m_cellPx - m_gapPx);
}

double CoverageRenderer::fraction(const ChunkBitmap &chunks, qint64 cell) const
{
    const ByteRange bytes = cellBytes(cell);
    if (bytes.isEmpty() || chunks.size() == 0)
        return 0.0;
    const qint64 cs = m_geometry.chunkSize;
    const qint64 c0 = bytes.begin / cs, c1 = (bytes.end - 1) / cs;
    if (c0 == c1)
        return chunks.test(c0) ? 1.0 : 0.0;
    qint64 present = 0;
    if (chunks.test(c0))
        present += (c0 + 1) * cs - bytes.begin;
    if (chunks.test(c1))
        present += bytes.end - c1 * cs;
    if (c1 - c0 > 1)
        present += chunks.countInSpan(c0 + 1, c1 - 1) * cs; // whole chunks, never the short last one
    return double(present) / double(bytes.length());
}

QRgb CoverageRenderer::colorFor(double presentFraction, bool inFlight, bool error, float glow, bool queued, bool packed) const
{
    if (error)
        return m_colors.error.rgb();
    if (inFlight)
        return queued ? m_colors.queued.rgb() : m_colors.inFlight.rgb();
    // Any present byte is visible: 0 < f maps to at least the lightest present shade.
    int index = presentFraction <= 0.0 ? 0 : 1 + int(presentFraction * 254.0 + 0.5);
    index = std::clamp(index, 0, 255);
    QRgb c = packed ? m_packedLut[size_t(index)] : m_lut[size_t(index)];
    if (glow > 0.0f && index > 0) {
        const QColor base = QColor::fromRgb(c);
        c = mix(base, m_colors.glow, double(glow) * 0.85);
    } else if (glow < 0.0f) {
        // Just evicted: the bytes that went fade out of the present shade into what is left.
        c = mix(QColor::fromRgb(c), m_colors.presentFull, double(-glow) * 0.75);
    }
    return c;
}

void CoverageRenderer::fillRect(QImage &image, const QRect &r, QRgb color) const
{
    const QRect clipped = r.intersected(image.rect());
    for (int y = clipped.top(); y <= clipped.bottom(); ++y) {
        QRgb *line = reinterpret_cast<QRgb *>(image.scanLine(y));
        std::fill(line + clipped.left(), line + clipped.right() + 1, color);
    }
}

QRect CoverageRenderer::render(QImage &image, const Inputs &in, qint64 first, qint64 last) const
{
    if (m_cells == 0 || !in.present) {
        image.fill(m_colors.background);
        return image.rect();
    }
    first = std::max<qint64>(0, first);
    last = std::min(last, m_cells - 1);
    QRect changed;
    for (qint64 cell = first; cell <= last; ++cell) {
        const double f = fraction(*in.present, cell);
        const ByteRange bytes = cellBytes(cell);
        const auto [c0, c1] = m_geometry.chunksTouching(bytes);
        const bool flying = in.inFlight && c1 >= c0 && in.inFlight->countInSpan(c0, c1) > 0;
        const bool moving = flying && (!in.transferring || (in.transferring->size() > c1 && in.transferring->countInSpan(c0, c1) > 0));
        const bool failed = in.errors && c1 >= c0 && in.errors->countInSpan(c0, c1) > 0;
        const float glow = in.glow && size_t(cell) < in.glow->size() ? (*in.glow)[size_t(cell)] : 0.0f;
        const bool packed = in.packed && f > 0.0 && in.packed->size() > c1 && fraction(*in.packed, cell) * 2.0 >= f;
        const QRect r = cellRect(cell);
        fillRect(image, r.adjusted(0, 0, m_gapPx, m_gapPx), m_colors.background.rgb());
        fillRect(image, r, colorFor(f, flying, failed, glow, flying && !moving, packed));
        changed = changed.united(r.adjusted(0, 0, m_gapPx, m_gapPx));
    }
    return changed;
}

} // namespace sparsescope
