// sparsescope-cli: the headless twin of the desktop app. Thin: parsing in cliconfig.cpp,
// commands in commands.cpp, everything else in core/.
#include "bufferpool.h"
#include "cliconfig.h"
#include "commands.h"

#include <QCoreApplication>

#include <csignal>

int main(int argc, char **argv)
{
    sparsescope::tuneAllocatorForTransfers();
    std::signal(SIGXFSZ, SIG_IGN); // a file-size limit then fails writes with EFBIG, reported like a full disk
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("sparsescope-cli"));
    QCoreApplication::setApplicationVersion(QStringLiteral(SPARSESCOPE_VERSION));
    const auto parsed = sparsescope::cli::parseCommandLine(QCoreApplication::arguments());
    if (parsed.exit)
        return parsed.exitCode;
    return sparsescope::cli::runCommand(parsed.config);
}
