#include "listeningchild.h"

namespace sparsescope::test {

quint16 startListeningChild(QProcess &process, const QString &program, const QStringList &arguments, QString *error)
{
    process.start(program, arguments);
    if (!process.waitForStarted(10000)) {
        *error = QStringLiteral("cannot start %1: %2").arg(program, process.errorString());
        return 0;
    }
    while (!process.canReadLine() && process.waitForReadyRead(10000)) {
    }
    const QByteArray line = process.readLine().trimmed();
    if (!line.startsWith("listening ")) {
        *error = QStringLiteral("%1 %2 did not start: %3 %4")
                     .arg(program, arguments.value(0), QString::fromUtf8(line), QString::fromUtf8(process.readAllStandardError()));
        return 0;
    }
    return quint16(line.mid(10).toUInt());
}

} // namespace sparsescope::test
