#pragma once
// ThroughputChart: download throughput (MiB/s) and cache-hit rate (%) over the last few minutes
// at 1 s resolution. The plot is Qt Charts today, hidden behind addSample() so it can be swapped.
// Series are replaced in bulk, axes are set here, and nothing is animated. GUI thread only.

#include <QList>
#include <QPointF>
#include <QWidget>

class QChart;
class QChartView;
class QLineSeries;
class QValueAxis;

namespace sparsescope {

class ThroughputChart final : public QWidget {
    Q_OBJECT
public:
    static constexpr int kSeconds = 180;

    explicit ThroughputChart(QWidget *parent = nullptr);
    // One sample per second: bytes stored per second, and the hit ratio 0..1 (NaN: no reads).
    void addSample(double bytesPerSecond, double hitRatio);
    double peakMiBps() const { return m_peak; }
    int sampleCount() const { return int(m_rates.size()); }

protected:
    void changeEvent(QEvent *event) override;

private:
    void replot();
    void applyPalette(); // the chart's own theme follows the widget's palette (light or dark)

    QChart *m_chart = nullptr;
    QChartView *m_view = nullptr;
    QLineSeries *m_rate = nullptr;
    QLineSeries *m_hits = nullptr;
    QValueAxis *m_x = nullptr;
    QValueAxis *m_yRate = nullptr;
    QValueAxis *m_yHits = nullptr;
    QList<double> m_rates; // MiB/s, oldest first
    QList<double> m_hitRatios;
    int m_lastPlotHeight = -1; // the axis steps were chosen for this height
    double m_peak = 0;
};

} // namespace sparsescope
