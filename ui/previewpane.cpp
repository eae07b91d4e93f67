#include "previewpane.h"
#include "hexpreview.h"

#include <QFontDatabase>
#include <QPlainTextEdit>
#include <QStringDecoder>

namespace sparsescope {

PreviewPane::PreviewPane(QWidget *parent) : QTabWidget(parent), m_hex(new HexPreview), m_text(new QPlainTextEdit)
{
    m_text->setReadOnly(true);
    m_text->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_text->setLineWrapMode(QPlainTextEdit::NoWrap);
    setDocumentMode(true);
    addTab(m_hex, tr("Hex"));
    addTab(m_text, tr("Text"));
}

bool PreviewPane::isText(const QByteArray &bytes)
{
    // Stateful: a character cut by the end of the range waits for bytes that never come, which is
    // not an error; an invalid sequence anywhere is.
    QStringDecoder utf8(QStringDecoder::Utf8);
    const QString s = utf8(bytes);
    if (utf8.hasError())
        return false;
    for (QChar c : s)
        if (c.category() == QChar::Other_Control && c != u'\t' && c != u'\n' && c != u'\r')
            return false;
    return true;
}

void PreviewPane::setBytes(qint64 offset, const QByteArray &bytes)
{
    m_hex->setBytes(offset, bytes);
    // The tab stays the user's choice.
    m_text->setPlainText(isText(bytes) ? QString::fromUtf8(bytes) : tr("These bytes are not UTF-8 text; see Hex."));
}

void PreviewPane::setMessage(const QString &message)
{
    m_hex->setMessage(message);
    m_text->setPlainText(message);
}

} // namespace sparsescope
