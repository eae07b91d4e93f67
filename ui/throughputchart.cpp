#include "throughputchart.h"
#include "themecolors.h"

#include <QChart>
#include <QChartView>
#include <QLineSeries>
#include <QFontMetrics>
#include <QValueAxis>
#include <QVBoxLayout>

#include <cmath>

namespace sparsescope {

ThroughputChart::ThroughputChart(QWidget *parent) : QWidget(parent)
{
    m_chart = new QChart;
    m_chart->setAnimationOptions(QChart::NoAnimation);
    m_chart->legend()->setAlignment(Qt::AlignTop);
    m_chart->setMargins(QMargins(4, 4, 4, 4));
    m_chart->setBackgroundRoundness(0);
    m_rate = new QLineSeries;
    m_rate->setName(tr("Download (MiB/s)"));

    m_hits = new QLineSeries;
    m_hits->setName(tr("Cache hits (%)"));

    m_chart->addSeries(m_rate);
    m_chart->addSeries(m_hits);
    m_x = new QValueAxis;
    m_x->setRange(-kSeconds, 0);
    m_x->setTickCount(7);
    m_x->setLabelFormat(QStringLiteral("%d s"));
    m_yRate = new QValueAxis;
    m_yRate->setRange(0, 10);
    m_yRate->setTickCount(3); // 0, 5, 10 until a sample fits the steps to the plot's height (see update())
    m_yRate->setLabelFormat(QStringLiteral("%.0f"));
    m_yRate->setTitleText(tr("MiB/s"));
    m_yHits = new QValueAxis;
    m_yHits->setRange(0, 100);
    m_yHits->setTickCount(3);
    m_yHits->setLabelFormat(QStringLiteral("%d%%"));
    m_chart->addAxis(m_x, Qt::AlignBottom);
    m_chart->addAxis(m_yRate, Qt::AlignLeft);
    m_chart->addAxis(m_yHits, Qt::AlignRight);
    m_rate->attachAxis(m_x);
    m_rate->attachAxis(m_yRate);
    m_hits->attachAxis(m_x);
    m_hits->attachAxis(m_yHits);
    m_view = new QChartView(m_chart, this);
    m_view->setRenderHint(QPainter::Antialiasing);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_view);
    setMinimumHeight(150);
    applyPalette();
}

void ThroughputChart::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::PaletteChange)
        applyPalette();
    QWidget::changeEvent(event);
}

void ThroughputChart::applyPalette()
{
    // QChart draws with its own theme (light by default): it takes the palette's colours instead.
    const QPalette pal = palette();
    m_chart->setBackgroundBrush(pal.brush(QPalette::Base));
    m_chart->setPlotAreaBackgroundVisible(false);
    m_view->setBackgroundBrush(pal.brush(QPalette::Window));
    m_chart->legend()->setLabelColor(pal.color(QPalette::Text));
    m_chart->setTitleBrush(pal.brush(QPalette::Text));
    for (QValueAxis *axis : {m_x, m_yRate, m_yHits}) {
        axis->setLabelsBrush(pal.brush(QPalette::Text));
        axis->setTitleBrush(pal.brush(QPalette::Text));
        axis->setLinePenColor(pal.color(QPalette::Mid));
        axis->setGridLineColor(theme::isDark(pal) ? pal.color(QPalette::Mid).darker(130) : pal.color(QPalette::Midlight));
    }
    m_rate->setPen(QPen(theme::rateLine(pal), 2));
    m_hits->setPen(QPen(theme::hitsLine(pal), 1.5, Qt::DashLine));
}

void ThroughputChart::addSample(double bytesPerSecond, double hitRatio)
{
    m_rates.append(bytesPerSecond / double(1 << 20));
    m_hitRatios.append(hitRatio);
    while (m_rates.size() > kSeconds + 1) {
        m_rates.removeFirst();
        m_hitRatios.removeFirst();
    }
    replot();
}

void ThroughputChart::replot()
{
    QList<QPointF> rate, hits;
    rate.reserve(m_rates.size());
    const qsizetype n = m_rates.size();
    double top = 0;
    for (qsizetype i = 0; i < n; ++i) {
        const double x = double(i - (n - 1));
        rate.append({x, m_rates[i]});
        top = std::max(top, m_rates[i]);
        if (!std::isnan(m_hitRatios[i]))
            hits.append({x, 100.0 * m_hitRatios[i]});
    }
    m_peak = top;
    m_rate->replace(rate);
    m_hits->replace(hits);
    // A round upper bound: 1, 2 or 5 times a power of ten, above the peak.
    double bound = 10;
    if (top > 0.01) {
        const double p = std::pow(10.0, std::floor(std::log10(top)));
        bound = top <= p ? p : top <= 2 * p ? 2 * p : top <= 5 * p ? 5 * p : 10 * p;
        if (bound < top * 1.05)
            bound *= 2;
    }
    if (std::abs(m_yRate->max() - bound) > 1e-9 || m_lastPlotHeight != int(m_chart->plotArea().height())) {
        m_lastPlotHeight = int(m_chart->plotArea().height());
        // Round steps that fit the plot's height (labels at least ~1.6 lines apart): a bound of
        // 1, 2 or 5 × 10^k gets steps of 0.2/0.5/1, 0.5/1, or 1/5 × 10^k.
        const double p = std::pow(10.0, std::floor(std::log10(bound) + 1e-9));
        const double mantissa = bound / p;
        const int room = std::max(1, int(m_chart->plotArea().height() / (QFontMetrics(m_yRate->labelsFont()).height() * 1.6)));
        int intervals = 1;
        // (A conditional of initializer_lists would leave their arrays dangling: a QList holds them.)
        const QList<int> candidates = mantissa < 1.5 ? QList<int>{5, 2} : mantissa < 3 ? QList<int>{4, 2} : QList<int>{5};
        for (int candidate : candidates)
            if (candidate <= room) {
                intervals = candidate;
                break;
            }
        const double step = bound / intervals;
        m_yRate->setRange(0, bound);
        m_yRate->setTickCount(intervals + 1);
        m_yHits->setTickCount(intervals + 1); // its grid lines on the same heights
        const int decimals = step >= 1 ? 0 : int(std::ceil(-std::log10(step) - 1e-9));
        m_yRate->setLabelFormat(QStringLiteral("%.%1f").arg(decimals));
    }
}

} // namespace sparsescope
