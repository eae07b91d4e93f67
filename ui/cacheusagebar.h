#pragma once
// CacheUsageBar: how much disk the cache takes against its budget, always in sight (the status
// bar): one segment per object (its allocated bytes; the tooltip lists them), the rest of the
// cache in grey, and the text "230 MiB of 256 MiB" (or "230 MiB, no limit"). Every two seconds, and
// soon after the window sees bytes arrive or go (measureSoon), it measures the cache on
// Cache::jobPool() (du, the settings, the budget's last eviction) and, when
// the budget evicted something since the last look (in any process), emits evicted() with one
// line saying how much and why.
//
// Thread affinity: GUI thread; the measuring runs on the job pool, never here.

#include "cache.h"

#include <QElapsedTimer>
#include <QTimer>
#include <QWidget>

namespace sparsescope {

class CacheUsageBar final : public QWidget {
    Q_OBJECT
public:
    struct Share {
        QString name;
        qint64 bytes = 0;
    };
    explicit CacheUsageBar(QWidget *parent = nullptr);
    void setCacheDirectory(const QString &dir); // measures at once
    void setShares(QList<Share> shares);        // each object's allocated bytes
    // The last measurement (settings as stored in the cache; usedBytes -1 before the first).
    const CacheUsage &usage() const { return m_usage; }
    void measureNow();
    // Measures within a second, but not sooner than a second after the last measurement started
    // (a big cache is many stat(2) calls): what the status bar shows follows the table.
    void measureSoon();

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

Q_SIGNALS:
    void evicted(const QString &message);
    void measured();

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    void updateToolTip();
    QString m_dir;
    CacheUsage m_usage{-1, {}, -1};
    QList<Share> m_shares;
    EvictionNews m_news;
    bool m_seqKnown = false;
    bool m_measuring = false;
    bool m_measureAgain = false; // measureSoon() while measuring: once more after it
    quint64 m_generation = 0; // a measurement of a previous directory is dropped
    QTimer m_timer;
    QTimer m_soon;
    QElapsedTimer m_sinceMeasure; // started at each measurement
};

} // namespace sparsescope
