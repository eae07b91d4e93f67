// sparsescope-cli: the headless twin of the desktop app. Thin: parsing in cliconfig.cpp,
// commands in commands.cpp, everything else in core/.
#include "bufferpool.h"
#include "cliconfig.h"
#include "commands.h"
#include "temporaryfiles.h"

#include <QCoreApplication>

#include <csignal>

namespace {
// Qt's HTTP stack prints two internal complaints on error paths it handles itself (a reply whose
// error is reported twice after a 5xx; a read after a transfer timeout closed the reply). They are
// noise on a tool whose errors are one line each, so they are dropped; everything else passes.
QtMessageHandler g_defaultHandler = nullptr;
void messageHandler(QtMsgType type, const QMessageLogContext &context, const QString &message)
{
    if (type == QtWarningMsg && (message.startsWith(QLatin1String("QNetworkReplyImplPrivate::error: Internal problem")) ||
                                 message.startsWith(QLatin1String("QIODevice::read (QNetworkReplyHttpImpl): device not open"))))
        return;
    g_defaultHandler(type, context, message);
}
} // namespace

int main(int argc, char **argv)
{
    g_defaultHandler = qInstallMessageHandler(messageHandler);
    sparsescope::tuneAllocatorForTransfers();
    std::signal(SIGXFSZ, SIG_IGN); // a file-size limit then fails writes with EFBIG, reported like a full disk
    // Ctrl-C, SIGTERM, SIGHUP: temporary files (read -o, export, extract) are removed and the
    // process dies of the signal. The cache needs nothing: its journal is crash-safe.
    sparsescope::temporaryfiles::removeOnTerminationSignals();
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("sparsescope-cli"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SPARSESCOPE_VERSION));
    const auto parsed = sparsescope::cli::parseCommandLine(QCoreApplication::arguments());
    if (parsed.exit)
        return parsed.exitCode;
    return sparsescope::cli::runCommand(parsed.config);
}
