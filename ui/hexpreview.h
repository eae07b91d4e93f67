#pragma once
// HexPreview: a hex + ASCII view of bytes at an offset (16 bytes a row, offsets in hex), painted
// directly with a fixed-pitch font and scrollable. It only shows what it is given; the window
// reads through the engine, so previewing a missing range fetches it. GUI thread only.

#include <QAbstractScrollArea>
#include <QByteArray>

namespace sparsescope {

class HexPreview final : public QAbstractScrollArea {
    Q_OBJECT
public:
    QSize sizeHint() const override;
    explicit HexPreview(QWidget *parent = nullptr);
    void setBytes(qint64 offset, const QByteArray &bytes);
    void setMessage(const QString &message); // shown instead of bytes (loading, errors)
    QByteArray bytes() const { return m_bytes; }
    qint64 offset() const { return m_offset; }

protected:
    void paintEvent(QPaintEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    void updateScrollBars();
    int lineHeight() const;

    qint64 m_offset = 0;
    QByteArray m_bytes;
    QString m_message;
};

} // namespace sparsescope
