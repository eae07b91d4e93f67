#include "progressbar.h"
#include "rangeparse.h"
#include "sparseobject.h"

#include <QTextStream>

namespace sparsescope::cli {

ProgressBar::ProgressBar(const SparseObject *object, bool enabled) : m_object(object), m_enabled(enabled)
{
    if (!m_enabled)
        return;
    m_clock.start();
    m_timer.setInterval(200);
    connect(&m_timer, &QTimer::timeout, this, &ProgressBar::draw);
    m_timer.start();
}

ProgressBar::~ProgressBar()
{
    if (m_enabled) {
        draw();
        QTextStream(stderr) << "\n";
    }
}

void ProgressBar::draw()
{
    const qint64 size = m_object->geometry().objectSize;
    const qint64 present = m_object->presentBytes();
    const double fraction = size > 0 ? double(present) / double(size) : 1.0;
    constexpr int kWidth = 30;
    const int filled = int(fraction * kWidth);
    const double seconds = std::max(0.001, m_clock.elapsed() / 1000.0);
    const qint64 rate = qint64(double(m_object->statistics().storedBytes.load()) / seconds);
    QTextStream(stderr) << "\r" << QStringLiteral("%1%").arg(fraction * 100.0, 5, 'f', 1) << " ["
                        << QString(filled, u'#') << QString(kWidth - filled, u'-') << "] " << formatBytes(present) << " / "
                        << formatBytes(size) << "  " << formatBytes(rate) << "/s  " << m_object->inFlightChunks()
                        << " chunks in flight   ";
}

} // namespace sparsescope::cli
