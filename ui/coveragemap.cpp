#include "coveragemap.h"
#include "themecolors.h"
#include "rangeparse.h"
#include "sparseobject.h"

#include <QHelpEvent>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QToolTip>

#include <algorithm>
#include <limits>
#include <utility>

namespace sparsescope {

namespace {
constexpr int kGlowMs = 2500;
constexpr int kTickMs = 100;  // glow fades
constexpr int kChangeMs = 40; // at most this often a reported change is rendered
} // namespace

CoverageMap::CoverageMap(QWidget *parent) : QWidget(parent)
{
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus); // keyboard selection once clicked or tabbed into
    setAttribute(Qt::WA_OpaquePaintEvent);
    setMinimumSize(240, 120);
    m_clock.start();
    m_timer.setInterval(kTickMs);
    connect(&m_timer, &QTimer::timeout, this, &CoverageMap::tick);
    m_changeTimer.setSingleShot(true);
    connect(&m_changeTimer, &QTimer::timeout, this, &CoverageMap::tick);
    applyPaletteColors();
}

void CoverageMap::applyPaletteColors()
{
    CoverageColors c;
    c.background = palette().color(QPalette::Base);
    if (theme::isDark(palette())) {
        c.missing = QColor(0x3a, 0x3f, 0x47);
        c.presentLight = QColor(0x2d, 0x5d, 0x8a);
        c.presentFull = QColor(0x5d, 0xa9, 0xf0);
    }
    m_renderer.setColors(c);
    m_fullDirty = true;
}

void CoverageMap::setObject(const std::shared_ptr<SparseObject> &object)
{
    if (auto old = m_object.lock())
        disconnect(old.get(), nullptr, this, nullptr);
    m_object = object;
    m_selection = {};
    m_anchorCell = m_cursorCell = -1;
    if (object) {
        m_geometry = object->geometry();
        connect(object.get(), &SparseObject::coverageChanged, this, &CoverageMap::onCoverageChanged);
        refreshSnapshot();
    } else {
        m_geometry = {};
        m_layers = CoverageLayers();
    }
    relayout();
    m_timer.start();
}

void CoverageMap::setSnapshot(const ChunkGeometry &geometry, const ChunkBitmap &present, const ChunkBitmap &packed)
{
    const bool sameObject = !m_object.lock() && geometry.objectSize == m_geometry.objectSize && geometry.chunkSize == m_geometry.chunkSize;
    if (auto old = m_object.lock())
        disconnect(old.get(), nullptr, this, nullptr);
    m_object.reset();
    if (!sameObject)
        m_selection = {}; // a new snapshot of the same object (another process changed it) keeps it
    m_geometry = geometry;
    m_layers.present = present;
    m_layers.packed = packed;
    m_layers.inFlight = ChunkBitmap(geometry.chunkCount());
    m_layers.transferring = ChunkBitmap(geometry.chunkCount());
    m_layers.errors = ChunkBitmap(geometry.chunkCount());
    relayout();
}

void CoverageMap::setSelection(ByteRange range)
{
    m_selection = range.intersected({0, m_geometry.objectSize});
    update(); // the selection is an overlay: no cell needs rendering again
    Q_EMIT selectionChanged(m_selection);
}

void CoverageMap::refreshSnapshot()
{
    if (auto o = m_object.lock())
        o->copyCoverage(0, std::numeric_limits<qint64>::max(), &m_layers);
    m_dirty.clear();
}

void CoverageMap::relayout()
{
    const qreal dpr = devicePixelRatioF();
    const QSize area(int(width() * dpr), int((height() - kLegendHeight) * dpr));
    m_renderer.setLayout(m_geometry, area.expandedTo(QSize(1, 1)), dpr);
    m_image = QImage(area.expandedTo(QSize(1, 1)), QImage::Format_RGB32);
    m_image.setDevicePixelRatio(dpr);
    m_image.fill(palette().color(QPalette::Base));
    m_glow.assign(size_t(m_renderer.cellCount()), 0.0f);
    m_glowSince.assign(size_t(m_renderer.cellCount()), -kGlowMs);
    m_fadingOut.assign(size_t(m_renderer.cellCount()), false);
    m_isGlowing.assign(size_t(m_renderer.cellCount()), false);
    m_glowing.clear();
    m_fullDirty = false;
    CoverageRenderer::Inputs in{&m_layers.present, &m_layers.inFlight, &m_layers.errors, &m_glow, &m_layers.transferring, &m_layers.packed};
    m_renderer.renderAll(m_image, in);
    update();
}

void CoverageMap::renderCells(qint64 first, qint64 last)
{
    if (m_renderer.cellCount() == 0 || first > last)
        return;
    CoverageRenderer::Inputs in{&m_layers.present, &m_layers.inFlight, &m_layers.errors, &m_glow, &m_layers.transferring, &m_layers.packed};
    const QRect device = m_renderer.render(m_image, in, first, last);
    const qreal dpr = devicePixelRatioF();
    update(QRectF(device.x() / dpr, device.y() / dpr, device.width() / dpr, device.height() / dpr).toAlignedRect());
}

void CoverageMap::onCoverageChanged(qint64 firstChunk, qint64 lastChunk)
{
    mergeSpan(m_dirty, firstChunk, lastChunk);
    if (!m_changeTimer.isActive())
        m_changeTimer.start(int(std::clamp<qint64>(kChangeMs - (m_clock.elapsed() - m_lastTick), 0, kChangeMs)));
    if (!m_timer.isActive())
        m_timer.start();
}

void CoverageMap::startGlow(qint64 cell, qint64 now, bool fadingOut)
{
    m_glowSince[size_t(cell)] = now;
    m_fadingOut[size_t(cell)] = fadingOut;
    if (!m_isGlowing[size_t(cell)]) {
        m_isGlowing[size_t(cell)] = true;
        m_glowing.push_back(cell);
    }
}

void CoverageMap::tick()
{
    if (!isVisible())
        return; // keep what is dirty; showEvent() renders everything
    const qint64 now = m_clock.elapsed();
    m_lastTick = now;
    if (m_fullDirty) {
        refreshSnapshot();
        relayout();
        return;
    }
    QList<std::pair<qint64, qint64>> cells; // to render again
    if (auto o = m_object.lock(); o && !m_dirty.isEmpty()) {
        // Only the spans reported changed are copied from the object and looked at.
        for (const auto &[c0, c1] : std::exchange(m_dirty, {})) {
            const auto [a, b] = m_renderer.cellsOfChunks(c0, std::min(c1, m_geometry.chunkCount() - 1));
            if (a > b)
                continue;
            const qint64 chunk0 = m_geometry.chunksTouching(m_renderer.cellBytes(a)).first;
            const qint64 chunk1 = m_geometry.chunksTouching(m_renderer.cellBytes(b)).second;
            std::vector<qint64> had(size_t(b - a + 1));
            for (qint64 cell = a; cell <= b; ++cell) {
                const auto [x, y] = m_geometry.chunksTouching(m_renderer.cellBytes(cell));
                had[size_t(cell - a)] = y < x ? 0 : m_layers.present.countInSpan(x, y);
            }
            o->copyCoverage(chunk0, chunk1, &m_layers);
            for (qint64 cell = a; cell <= b; ++cell) {
                const auto [x, y] = m_geometry.chunksTouching(m_renderer.cellBytes(cell));
                const qint64 has = y < x ? 0 : m_layers.present.countInSpan(x, y);
                if (has != had[size_t(cell - a)]) // gained bytes: glow; lost bytes (evicted, by anyone): fade out
                    startGlow(cell, now, has < had[size_t(cell - a)]);
            }
            mergeSpan(cells, a, b);
        }
    }
    // Fade: the cells still glowing are rendered again; cells done fading get one last render.
    for (size_t i = 0; i < m_glowing.size();) {
        const qint64 cell = m_glowing[i];
        const qint64 age = now - m_glowSince[size_t(cell)];
        float g = age >= kGlowMs ? 0.0f : 1.0f - float(age) / kGlowMs;
        if (m_fadingOut[size_t(cell)])
            g = -g;
        if (g != m_glow[size_t(cell)]) {
            m_glow[size_t(cell)] = g;
            mergeSpan(cells, cell, cell);
        }
        if (g == 0.0f) {
            m_isGlowing[size_t(cell)] = false;
            m_glowing[i] = m_glowing.back();
            m_glowing.pop_back();
        } else {
            ++i;
        }
    }
    for (const auto &[a, b] : std::as_const(cells))
        renderCells(a, b);
    if (cells.isEmpty() && m_glowing.empty() && m_dirty.isEmpty())
        m_timer.stop(); // nothing to fade; a reported change starts it again
}

void CoverageMap::paintEvent(QPaintEvent *event)
{
    QPainter p(this);
    const QRect mapArea(0, 0, width(), height() - kLegendHeight);
    if (event->rect().intersects(mapArea)) {
        p.drawImage(QPointF(0, 0), m_image);
        paintSelection(p);
    }
    if (m_geometry.objectSize == 0 && mapArea.height() > 0) {
        p.fillRect(mapArea, palette().color(QPalette::Base));
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(mapArea, Qt::AlignCenter, m_object.expired() && m_geometry.chunkSize <= 1
                                                ? tr("Open a file or URL to see its coverage")
                                                : tr("This object is empty"));
    }
    const QRect band(0, height() - kLegendHeight, width(), kLegendHeight);
    if (event->rect().intersects(band))
        paintLegend(p, band);
}

void CoverageMap::paintSelection(QPainter &p)
{
    const auto [a, b] = m_renderer.cellsOfBytes(m_selection);
    if (b < a)
        return;
    const qreal dpr = devicePixelRatioF();
    QPainterPath region;
    for (const QRect &r : m_renderer.spanRects(a, b))
        region.addRect(QRectF(r.x() / dpr, r.y() / dpr, (r.width() + 1) / dpr, (r.height() + 1) / dpr));
    region = region.simplified();
    // Outlined, not tinted: the cells inside keep their true colours (an evicted cell looks
    // missing while selected).
    p.save();
    p.setRenderHint(QPainter::Antialiasing, false);
    // The outline contrasts with every cell colour: the text colour, over a halo of the base.
    p.setPen(QPen(palette().color(QPalette::Base), 4));
    p.drawPath(region);
    p.setPen(QPen(palette().color(QPalette::Text), 2));
    p.drawPath(region);
    p.restore();
}

QList<CoverageMap::LegendEntry> CoverageMap::legendEntries(int width) const
{
    // Present is a gradient from a few bytes to every byte of a cell (kGradient swatches).
    const bool anyGlow = std::any_of(m_glow.begin(), m_glow.end(), [](float g) { return g > 0; });
    const qint64 queued = m_layers.inFlight.count() - m_layers.transferring.count();
    QList<LegendEntry> all{
        {m_renderer.colorFor(0.0, false, false, 0), tr("Missing"), true, false},
        {0, tr("Present"), true, true},
        {m_renderer.colorFor(1.0, false, false, 0, false, true), tr("Packed"), m_layers.packed.count() > 0, false},
        {m_renderer.colorFor(1.0, false, false, 1.0f), tr("Just fetched"), anyGlow, false},
        {m_renderer.colorFor(0.0, true, false, 0), tr("Transferring"), m_layers.transferring.count() > 0, false},
        {m_renderer.colorFor(0.0, true, false, 0, true), tr("Queued"), queued > 0, false},
        {m_renderer.colorFor(0.0, false, true, 0), tr("Error"), m_layers.errors.count() > 0, false},
    };
    const QFontMetrics fm = fontMetrics();
    auto widthOf = [&](const QList<LegendEntry> &entries) {
        int w = 6;
        for (const LegendEntry &e : entries)
            w += (e.gradient ? kGradient * kSwatch : kSwatch) + 4 + fm.horizontalAdvance(e.label) + 10;
        return w;
    };
    if (widthOf(all) <= width)
        return all;
    // Too narrow for every state: the states the map shows now (missing and present always).
    QList<LegendEntry> shown;
    for (const LegendEntry &e : std::as_const(all))
        if (e.onMap)
            shown.append(e);
    return shown;
}

void CoverageMap::paintLegend(QPainter &p, const QRect &band)
{
    p.fillRect(band, palette().color(QPalette::Window));
    p.setPen(palette().color(QPalette::WindowText));
    const QFontMetrics fm = p.fontMetrics();
    int x = band.left() + 6;
    const int y = band.top() + (band.height() - kSwatch) / 2;
    for (const LegendEntry &e : legendEntries(band.width())) {
        if (e.gradient) {
            p.drawText(QRect(x, band.top(), fm.horizontalAdvance(e.label) + 2, band.height()), Qt::AlignVCenter, e.label);
            x += fm.horizontalAdvance(e.label) + 4;
            for (int i = 0; i < kGradient; ++i) {
                p.fillRect(QRect(x, y, kSwatch, kSwatch), QColor::fromRgb(m_renderer.colorFor(0.01 + i * (0.99 / (kGradient - 1)), false, false, 0)));
                x += kSwatch;
            }
            x += 10;
            continue;
        }
        p.fillRect(QRect(x, y, kSwatch, kSwatch), QColor::fromRgb(e.color));
        x += kSwatch + 4;
        p.drawText(QRect(x, band.top(), fm.horizontalAdvance(e.label) + 2, band.height()), Qt::AlignVCenter, e.label);
        x += fm.horizontalAdvance(e.label) + 10;
    }
    if (!m_selection.isEmpty()) { // only where it fits; the status bar always says it
        const QString sel = tr("Selected: %1").arg(formatBytes(m_selection.length()));
        if (x + fm.horizontalAdvance(sel) + 8 < band.right())
            p.drawText(band.adjusted(0, 0, -8, 0), Qt::AlignVCenter | Qt::AlignRight, sel);
    }
}

void CoverageMap::resizeEvent(QResizeEvent *) { relayout(); }

void CoverageMap::showEvent(QShowEvent *)
{
    refreshSnapshot();
    relayout();
    if (!m_object.expired())
        m_timer.start();
}

void CoverageMap::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::PaletteChange) {
        applyPaletteColors();
        relayout();
    }
    QWidget::changeEvent(event);
}

qint64 CoverageMap::cellAtLogical(QPointF pos) const
{
    const qreal dpr = devicePixelRatioF();
    return m_renderer.cellAt(QPoint(int(pos.x() * dpr), int(pos.y() * dpr)));
}

void CoverageMap::mousePressEvent(QMouseEvent *event)
{
    if (event->button() != Qt::LeftButton)
        return QWidget::mousePressEvent(event);
    const qint64 cell = cellAtLogical(event->position());
    if (cell < 0)
        return;
    m_anchorCell = cell;
    m_cursorCell = cell;
    m_dragging = true;
    setSelection(cellSpan(cell, cell));
}

void CoverageMap::keyPressEvent(QKeyEvent *event)
{
    // Arrows move by a cell or a row, PageUp/PageDown by a screenful, Home/End to the ends; with
    // Shift the selection grows from where it started.
    const qint64 cells = m_renderer.cellCount();
    if (cells == 0)
        return QWidget::keyPressEvent(event);
    const qint64 cols = std::max(1, m_renderer.columns());
    const qint64 rowsPerPage = std::max<qint64>(1, (height() - kLegendHeight) * qint64(devicePixelRatioF()) / std::max(1, m_renderer.cellPixels()) - 1);
    const qint64 from = m_cursorCell >= 0 ? m_cursorCell : 0;
    qint64 to = from;
    switch (event->key()) {
    case Qt::Key_Left: to = from - 1; break;
    case Qt::Key_Right: to = from + 1; break;
    case Qt::Key_Up: to = from - cols; break;
    case Qt::Key_Down: to = from + cols; break;
    case Qt::Key_PageUp: to = from - cols * rowsPerPage; break;
    case Qt::Key_PageDown: to = from + cols * rowsPerPage; break;
    case Qt::Key_Home: to = 0; break;
    case Qt::Key_End: to = cells - 1; break;
    default: return QWidget::keyPressEvent(event);
    }
    to = std::clamp<qint64>(to, 0, cells - 1);
    if (m_cursorCell < 0 && event->key() != Qt::Key_Home && event->key() != Qt::Key_End)
        to = 0; // the first key puts the cursor on the first cell
    const bool extend = event->modifiers() & Qt::ShiftModifier;
    if (!extend || m_anchorCell < 0)
        m_anchorCell = to;
    m_cursorCell = to;
    setSelection(cellSpan(m_anchorCell, to));
    event->accept();
}

ByteRange CoverageMap::cellSpan(qint64 x, qint64 y) const
{
    // Whole chunks: what prefetch and evict act on anyway (a cell of many chunks may start or end
    // inside one).
    const ByteRange bytes{m_renderer.cellBytes(std::min(x, y)).begin, m_renderer.cellBytes(std::max(x, y)).end};
    const auto [first, last] = m_geometry.chunksTouching(bytes);
    return last < first ? bytes : m_geometry.chunkSpan(first, last);
}

void CoverageMap::mouseMoveEvent(QMouseEvent *event)
{
    if (!m_dragging)
        return;
    qint64 cell = cellAtLogical(event->position());
    if (cell < 0)
        return;
    m_cursorCell = cell;
    const ByteRange span = cellSpan(m_anchorCell, cell);
    if (span != m_selection)
        setSelection(span);
}

void CoverageMap::mouseReleaseEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton)
        m_dragging = false;
}

QString CoverageMap::tooltipFor(qint64 cell) const
{
    const ByteRange bytes = m_renderer.cellBytes(cell);
    const auto [c0, c1] = m_geometry.chunksTouching(bytes);
    const double present = m_renderer.fraction(m_layers.present, cell);
    QString state;
    if (c1 >= c0 && m_layers.errors.size() && m_layers.errors.countInSpan(c0, c1) > 0)
        state = tr("error (the last fetch failed)");
    else if (c1 >= c0 && m_layers.inFlight.size() && m_layers.inFlight.countInSpan(c0, c1) > 0) {
        const qint64 moving = m_layers.transferring.size() > c1 ? m_layers.transferring.countInSpan(c0, c1) : 0;
        state = moving > 0 ? tr("being transferred (%1 chunks)").arg(moving) : tr("queued (%1 chunks)").arg(m_layers.inFlight.countInSpan(c0, c1));
    }
    else if (present >= 1.0)
        state = tr("present");
    else if (present <= 0.0)
        state = tr("missing");
    else
        state = tr("%1% present").arg(present * 100.0, 0, 'f', 1);
    const QString chunks = c0 == c1 ? tr("chunk %1").arg(c0) : tr("chunks %1–%2").arg(c0).arg(c1);
    return tr("<b>bytes %1</b> (%2)<br>%3<br>%4").arg(bytes.toInclusiveString(), formatBytes(bytes.length()), chunks, state);
}

bool CoverageMap::event(QEvent *event)
{
    if (event->type() == QEvent::ToolTip) {
        auto *help = static_cast<QHelpEvent *>(event);
        const qint64 cell = cellAtLogical(help->pos());
        if (cell >= 0)
            QToolTip::showText(help->globalPos(), tooltipFor(cell), this, {});
        else
            QToolTip::hideText();
        return true;
    }
    return QWidget::event(event);
}

} // namespace sparsescope
