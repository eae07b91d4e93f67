// sparsescope: the desktop app. Thin: everything is in ui/ and core/.
#include "bufferpool.h"
#include "appsettings.h"
#include "mainwindow.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QTextStream>
#include <QTimer>

#include <csignal>

int main(int argc, char **argv)
{
    sparsescope::tuneAllocatorForTransfers();
    std::signal(SIGXFSZ, SIG_IGN); // a file-size limit then fails writes with EFBIG, reported like a full disk
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("sparsescope"));
    QApplication::setOrganizationName(QStringLiteral("SparseScope"));
    QApplication::setApplicationDisplayName(QStringLiteral("SparseScope"));
    QApplication::setApplicationVersion(QStringLiteral(SPARSESCOPE_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("io.github.sparsescope.SparseScope"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Sparse, out-of-order materialization of large byte objects."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption demo(QStringLiteral("demo"), QStringLiteral("Open the built-in demo archive."));
    const QCommandLineOption cacheDir(QStringLiteral("cache-dir"), QStringLiteral("Use DIR as the cache directory for this run (the default stays)."), QStringLiteral("DIR"));
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                        QStringLiteral("Save a picture of the window to FILE (PNG) after --screenshot-after seconds, then quit."),
                                        QStringLiteral("FILE"));
    const QCommandLineOption screenshotAfter(QStringLiteral("screenshot-after"), QStringLiteral("Seconds before --screenshot (default 8)."),
                                             QStringLiteral("SECONDS"), QStringLiteral("8"));
    parser.addOptions({demo, cacheDir, screenshot, screenshotAfter});
    parser.addPositionalArgument(QStringLiteral("SOURCE"), QStringLiteral("Files or URLs to open."), QStringLiteral("[SOURCE...]"));
    parser.process(app);

    sparsescope::AppSettings settings = sparsescope::AppSettings::load();
    if (parser.isSet(cacheDir)) {
        settings.cacheDir = parser.value(cacheDir);
        settings.cacheDirForThisRun = true; // not the default of later launches
    }
    sparsescope::MainWindow window(settings);
    window.show();
    if (parser.isSet(demo))
        window.openDemo();
    for (const QString &source : parser.positionalArguments())
        window.openSource(source);
    if (parser.isSet(screenshot)) {
        const QString file = parser.value(screenshot);
        QTimer::singleShot(int(parser.value(screenshotAfter).toDouble() * 1000), &window, [&window, file] {
            const bool saved = window.grab().save(file, "PNG");
            QTextStream(stderr) << (saved ? QStringLiteral("screenshot: %1\n") : QStringLiteral("cannot save the screenshot %1\n")).arg(file);
            QApplication::exit(saved ? 0 : 1);
        });
    }
    return app.exec();
}
