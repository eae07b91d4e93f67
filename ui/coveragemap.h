#pragma once
// CoverageMap: the live heatmap of one object's coverage (see CoverageRenderer for what a cell
// shows). It renders from a cached QImage in device pixels, copies from the object and
// re-renders only the chunk spans it reports changed (coverageChanged), shows a change within
// 100 ms of it (the object batches for 40 ms, the map renders at most every 40 ms), and does
// nothing while hidden. Hover shows a cell's byte range, chunks and state; click selects a cell, drag selects
// a span; the selection (a byte range) drives the window's actions. A legend is always drawn
// along the bottom edge. GUI thread only.

#include "coveragelayers.h"
#include "coveragerenderer.h"

#include <QElapsedTimer>
#include <QTimer>
#include <QWidget>

#include <memory>

namespace sparsescope {

class SparseObject;

class CoverageMap final : public QWidget {
    Q_OBJECT
public:
    explicit CoverageMap(QWidget *parent = nullptr);

    // The object to show (nullptr: none). The map keeps a weak reference only.
    void setObject(const std::shared_ptr<SparseObject> &object);
    // Shows a coverage without a live object (an entry of the cache that is not open).
    void setSnapshot(const ChunkGeometry &geometry, const ChunkBitmap &present, const ChunkBitmap &packed = {});

    ByteRange selection() const { return m_selection; }
    qint64 presentChunkCount() const { return m_layers.present.count(); } // of what the map shows
    void setSelection(ByteRange range);
    // Extra highlight (e.g. an archive entry's span): drawn like the selection.
    const CoverageRenderer &renderer() const { return m_renderer; }
    QSize sizeHint() const override { return {640, 360}; }

    static constexpr int kLegendHeight = 28; // logical pixels
    // The legend along the bottom edge for a map `width` logical pixels wide: every state where
    // they fit, else the states the map shows now (missing and present always).
    struct LegendEntry {
        QRgb color;
        QString label;
        bool onMap;   // some cell shows this state now
        bool gradient; // present: drawn as a gradient of kGradient swatches
    };
    QList<LegendEntry> legendEntries(int width) const;

Q_SIGNALS:
    void selectionChanged(sparsescope::ByteRange range);

protected:
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;
    void showEvent(QShowEvent *event) override;
    void mousePressEvent(QMouseEvent *event) override;
    void mouseMoveEvent(QMouseEvent *event) override;
    void mouseReleaseEvent(QMouseEvent *event) override;
    void keyPressEvent(QKeyEvent *event) override;
    bool event(QEvent *event) override;
    void changeEvent(QEvent *event) override;

private:
    static constexpr int kSwatch = 12, kGradient = 5; // legend swatches, logical pixels
    ByteRange cellSpan(qint64 x, qint64 y) const; // the bytes of cells x..y (either order), widened to whole chunks
    void onCoverageChanged(qint64 firstChunk, qint64 lastChunk);
    void tick();
    void relayout();
    void refreshSnapshot();
    void renderCells(qint64 first, qint64 last);
    void startGlow(qint64 cell, qint64 now, bool fadingOut);
    void paintLegend(QPainter &p, const QRect &band);
    void paintSelection(QPainter &p);
    qint64 cellAtLogical(QPointF pos) const;
    QString tooltipFor(qint64 cell) const;
    void applyPaletteColors();

    std::weak_ptr<SparseObject> m_object;
    ChunkGeometry m_geometry;
    CoverageLayers m_layers; // what the map shows (spans copied from the object as they change)
    CoverageRenderer m_renderer;
    QImage m_image;
    std::vector<float> m_glow;           // per cell, 1 = just fetched, -1 = just evicted (both fade to 0)
    std::vector<bool> m_fadingOut;       // per cell: its last change lost bytes
    std::vector<qint64> m_glowSince;     // per cell, ms on m_clock when it last gained bytes
    std::vector<qint64> m_glowing;       // cells whose glow has not faded yet (each once)
    std::vector<bool> m_isGlowing;       // per cell: in m_glowing
    QElapsedTimer m_clock;
    QTimer m_timer;       // fades glows (every kTickMs while something glows or an object is live)
    QTimer m_changeTimer; // renders reported changes soon after they arrive (single shot)
    qint64 m_lastTick = -1000; // ms on m_clock
    QList<std::pair<qint64, qint64>> m_dirty; // chunk spans reported changed, not yet rendered
    bool m_fullDirty = true;
    ByteRange m_selection;
    qint64 m_anchorCell = -1;
    qint64 m_cursorCell = -1; // the moving end of a keyboard or mouse selection
    bool m_dragging = false;
};

} // namespace sparsescope
