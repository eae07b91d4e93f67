#include "cacheusagebar.h"
#include "handoff.h"
#include "rangeparse.h"

#include <QPainter>
#include <QPaintEvent>

namespace sparsescope {

namespace {
struct Measurement {
    Result<CacheUsage> usage;
    EvictionNews news;
};

QColor shareColor(int i)
{
    // Well-separated hues, muted enough to read the text over them.
    return QColor::fromHsv((i * 67 + 200) % 360, 110, 210);
}
} // namespace

CacheUsageBar::CacheUsageBar(QWidget *parent) : QWidget(parent)
{
    setAccessibleName(tr("Cache usage"));
    m_timer.setInterval(2000);
    connect(&m_timer, &QTimer::timeout, this, &CacheUsageBar::measureNow);
    m_timer.start();
    m_soon.setSingleShot(true);
    connect(&m_soon, &QTimer::timeout, this, &CacheUsageBar::measureNow);
}

void CacheUsageBar::measureSoon()
{
    if (m_measuring) {
        m_measureAgain = true; // the running one may have looked before the change
        return;
    }
    if (m_soon.isActive())
        return;
    const qint64 since = m_sinceMeasure.isValid() ? m_sinceMeasure.elapsed() : 1000;
    m_soon.start(int(std::clamp<qint64>(1000 - since, 50, 1000)));
}

QSize CacheUsageBar::sizeHint() const { return {260, fontMetrics().height() + 6}; }
QSize CacheUsageBar::minimumSizeHint() const { return {140, fontMetrics().height() + 6}; }

void CacheUsageBar::setCacheDirectory(const QString &dir)
{
    if (dir == m_dir)
        return;
    m_dir = dir;
    ++m_generation;
    m_seqKnown = false;
    m_usage = CacheUsage{-1, {}, -1};
    m_measuring = false;
    measureNow();
}

void CacheUsageBar::setShares(QList<Share> shares)
{
    std::sort(shares.begin(), shares.end(), [](const Share &a, const Share &b) { return a.bytes > b.bytes; });
    m_shares = std::move(shares);
    updateToolTip();
    update();
}

void CacheUsageBar::measureNow()
{
    if (m_dir.isEmpty() || m_measuring)
        return;
    m_measuring = true;
    m_sinceMeasure.start();
    const quint64 generation = m_generation;
    runOnPool(Cache::jobPool(), [dir = m_dir] {
        const Cache cache(dir);
        return Measurement{cache.usage(), cache.lastEviction()};
    }).then(this, [this, generation](Measurement m) {
        if (generation != m_generation)
            return;
        m_measuring = false;
        if (m.usage)
            m_usage = *m.usage;
        if (m_seqKnown && m.news.seq != m_news.seq && m.news.totalChunks > m_news.totalChunks) {
            const auto &r = m.news.report;
            const quint64 passes = m.news.seq - m_news.seq;
            const qint64 chunks = m.news.totalChunks - m_news.totalChunks;
            Q_EMIT evicted(tr("evicted %1 (%n chunk(s), least recently used first) because of %2: the cache was at %3 of %4%5", "", int(chunks))
                               .arg(formatBytes(m.news.totalBytes - m_news.totalBytes), r.reason, formatBytes(r.usedBefore),
                                    m_usage.settings.maxSize ? formatBytes(*m_usage.settings.maxSize) : tr("no limit"),
                                    passes > 1 ? tr(" (%1 passes)").arg(passes) : QString()));
        }
        m_news = m.news;
        m_seqKnown = true;
        updateToolTip();
        update();
        Q_EMIT measured();
        if (std::exchange(m_measureAgain, false))
            measureSoon();
    });
}

void CacheUsageBar::updateToolTip()
{
    QStringList lines;
    if (m_usage.usedBytes >= 0) {
        lines << tr("Cache %1: %2 on disk").arg(m_dir, formatBytes(m_usage.usedBytes));
        lines << tr("max-size %1, min-free-space %2%3")
                     .arg(m_usage.settings.maxSize ? formatBytes(*m_usage.settings.maxSize) : tr("none"), formatBytes(m_usage.settings.minFreeSpace),
                          m_usage.freeBytes >= 0 ? tr(" (%1 free)").arg(formatBytes(m_usage.freeBytes)) : QString());
    }
    for (const Share &s : std::as_const(m_shares))
        if (s.bytes > 0)
            lines << QStringLiteral("%1: %2").arg(s.name, formatBytes(s.bytes));
    setToolTip(lines.join(u'\n'));
}

void CacheUsageBar::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    const QRect frame = rect().adjusted(0, 1, -1, -2);
    p.fillRect(frame, palette().base());
    const qint64 used = std::max<qint64>(0, m_usage.usedBytes);
    const qint64 scale = m_usage.settings.maxSize ? std::max(*m_usage.settings.maxSize, used) : std::max<qint64>(used, 1);
    const double perByte = double(frame.width()) / double(std::max<qint64>(scale, 1));
    double x = frame.left();
    qint64 shared = 0;
    for (int i = 0; i < m_shares.size(); ++i) {
        const double w = double(m_shares[i].bytes) * perByte;
        p.fillRect(QRectF(x, frame.top(), w, frame.height()), shareColor(i));
        x += w;
        shared += m_shares[i].bytes;
    }
    if (used > shared) // journals, indexes and objects not in the table
        p.fillRect(QRectF(x, frame.top(), double(used - shared) * perByte, frame.height()), palette().mid());
    if (m_usage.settings.maxSize) { // where eviction starts
        const double start = frame.left() + double(*m_usage.settings.maxSize) * CacheBudget::kStartFraction * perByte;
        p.setPen(QPen(palette().text(), 1, Qt::DotLine));
        p.drawLine(QPointF(start, frame.top()), QPointF(start, frame.bottom()));
    }
    p.setPen(palette().mid().color());
    p.drawRect(frame);
    QString text;
    if (m_usage.usedBytes < 0)
        text = tr("Cache: measuring…");
    else if (m_usage.settings.maxSize)
        text = tr("Cache %1 of %2").arg(formatBytes(used), formatBytes(*m_usage.settings.maxSize));
    else
        text = tr("Cache %1, no limit").arg(formatBytes(used));
    p.setPen(palette().text().color());
    p.drawText(frame, Qt::AlignCenter, text);
}

} // namespace sparsescope
