#include "hexpreview.h"

#include <QFontDatabase>
#include <QPainter>
#include <QScrollBar>

namespace sparsescope {

namespace {
constexpr int kBytesPerRow = 16;
}

HexPreview::HexPreview(QWidget *parent) : QAbstractScrollArea(parent)
{
    setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    // At least the offset and 8 hex bytes (the rest is cut on a small screen); sizeHint() asks
    // for all 16 and their ASCII.
    setMinimumWidth(fontMetrics().horizontalAdvance(QLatin1Char('0')) * 36 + 24);
    m_message = tr("Select a range on the map to preview its bytes.");
}

QSize HexPreview::sizeHint() const
{
    // Room for offset, 16 hex bytes and their ASCII, plus the scroll bar.
    return {fontMetrics().horizontalAdvance(QLatin1Char('0')) * 84 + 24, fontMetrics().height() * 12};
}

void HexPreview::setBytes(qint64 offset, const QByteArray &bytes)
{
    m_offset = offset;
    m_bytes = bytes;
    m_message.clear();
    verticalScrollBar()->setValue(0);
    updateScrollBars();
    viewport()->update();
}

void HexPreview::setMessage(const QString &message)
{
    m_message = message;
    m_bytes.clear();
    updateScrollBars();
    viewport()->update();
}

int HexPreview::lineHeight() const { return fontMetrics().height() + 1; }

void HexPreview::updateScrollBars()
{
    const int rows = int((m_bytes.size() + kBytesPerRow - 1) / kBytesPerRow);
    const int visible = std::max(1, viewport()->height() / lineHeight());
    verticalScrollBar()->setRange(0, std::max(0, rows - visible));
    verticalScrollBar()->setPageStep(visible);
}

void HexPreview::resizeEvent(QResizeEvent *event)
{
    QAbstractScrollArea::resizeEvent(event);
    updateScrollBars();
}

void HexPreview::paintEvent(QPaintEvent *)
{
    QPainter p(viewport());
    p.fillRect(viewport()->rect(), palette().color(QPalette::Base));
    p.setFont(font());
    if (!m_message.isEmpty()) {
        p.setPen(palette().color(QPalette::PlaceholderText));
        p.drawText(viewport()->rect().adjusted(8, 8, -8, -8), Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, m_message);
        return;
    }
    const QFontMetrics fm = fontMetrics();
    const int cw = fm.horizontalAdvance(QLatin1Char('0'));
    const int lh = lineHeight();
    const int first = verticalScrollBar()->value();
    const int rows = int((m_bytes.size() + kBytesPerRow - 1) / kBytesPerRow);
    const QColor offsetColor = palette().color(QPalette::PlaceholderText);
    const QColor text = palette().color(QPalette::Text);
    const int hexX = 4 + cw * 14;
    const int asciiX = hexX + cw * (kBytesPerRow * 3 + 2);
    for (int row = first, y = 2; row < rows && y < viewport()->height(); ++row, y += lh) {
        const qint64 at = qint64(row) * kBytesPerRow;
        p.setPen(offsetColor);
        p.drawText(4, y + fm.ascent(), QStringLiteral("%1").arg(m_offset + at, 12, 16, QLatin1Char('0')));
        QString hex, ascii;
        for (int i = 0; i < kBytesPerRow && at + i < m_bytes.size(); ++i) {
            const uchar b = uchar(m_bytes[at + i]);
            hex += QStringLiteral("%1 ").arg(b, 2, 16, QLatin1Char('0'));
            if (i == 7)
                hex += QLatin1Char(' ');
            ascii += (b >= 0x20 && b < 0x7f) ? QChar(char16_t(b)) : QChar(u'·');
        }
        p.setPen(text);
        p.drawText(hexX, y + fm.ascent(), hex);
        p.drawText(asciiX, y + fm.ascent(), ascii);
    }
}

} // namespace sparsescope
