#pragma once
// PreviewPane: the selected bytes as hex (HexPreview) and as text (UTF-8; bytes that are not
// text are said to be so, with the hex view one click away). The tab shown is the user's choice.
// GUI thread only.

#include <QTabWidget>

class QPlainTextEdit;

namespace sparsescope {

class HexPreview;

class PreviewPane final : public QTabWidget {
    Q_OBJECT
public:
    explicit PreviewPane(QWidget *parent = nullptr);
    void setBytes(qint64 offset, const QByteArray &bytes);
    void setMessage(const QString &message); // shown instead of bytes (loading, errors)
    HexPreview *hex() const { return m_hex; }
    QPlainTextEdit *text() const { return m_text; }
    // True if `bytes` read as text: valid UTF-8 (a character cut at the end is allowed) with no
    // control characters but tab, newline and carriage return.
    static bool isText(const QByteArray &bytes);

private:
    HexPreview *m_hex;
    QPlainTextEdit *m_text;
};

} // namespace sparsescope
