// CacheUsageBar: it shows the cache's disk use against max-size as stored in the cache
// directory, and reports once, in one line, what the budget evicted since its last look.
#include "cacheusagebar.h"
#include "settingsdialog.h"
#include "localfilesource.h"

#include <QLineEdit>
#include <QMessageBox>
#include <QSignalSpy>
#include <QTimer>
#include <QTemporaryDir>
#include <QRandomGenerator>
#include <QtTest>

using namespace sparsescope;

class TestCacheUsageBar : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void showsTheBudgetAndReportsEvictions()
    {
        QTemporaryDir tmp;
        const QString cache = tmp.filePath(QStringLiteral("cache"));
        CacheSettings s;
        s.maxSize = 8 << 20;
        QVERIFY(Cache(cache).saveSettings(s).ok());
        // A 6 MiB object, all present: 75 % of the budget. Random bytes: the budget evicts them
        // (bytes that compress well it would pack instead).
        const QString file = tmp.filePath(QStringLiteral("object.bin"));
        {
            QFile f(file);
            QVERIFY(f.open(QIODevice::WriteOnly));
            QByteArray random(6 << 20, Qt::Uninitialized);
            QRandomGenerator(5).fillRange(reinterpret_cast<quint32 *>(random.data()), random.size() / 4);
            f.write(random);
        }
        EngineConfig config;
        config.cacheDir = cache;
        {
            auto future = Cache(cache).open(file, config);
            QTRY_VERIFY_WITH_TIMEOUT(future.isFinished(), 10000);
            auto object = future.result();
            QVERIFY(object.ok());
            auto fetched = (*object)->prefetch({ByteRange{0, 6 << 20}});
            QTRY_VERIFY_WITH_TIMEOUT(fetched.isFinished(), 10000);
            QVERIFY(fetched.result().ok());
            auto flushed = (*object)->flush();
            QTRY_VERIFY(flushed.isFinished());
        }
        CacheUsageBar bar;
        bar.resize(300, 24);
        QSignalSpy evicted(&bar, &CacheUsageBar::evicted);
        bar.setCacheDirectory(cache);
        QTRY_VERIFY(bar.usage().usedBytes >= 6 << 20);
        QCOMPARE(bar.usage().settings.maxSize, std::optional<qint64>(8 << 20));
        // The bar is filled about three quarters of the way.
        const QImage before = bar.grab().toImage();
        const QColor empty = before.pixelColor(before.width() - 10, before.height() / 2);
        QVERIFY(before.pixelColor(20, before.height() / 2) != empty);

        // Another process (here: gc after lowering the budget) evicts: one activity line.
        s.maxSize = 4 << 20;
        QVERIFY(Cache(cache).saveSettings(s).ok());
        auto report = Cache(cache).collectGarbage();
        QVERIFY(report.ok());
        QVERIFY(report->chunks > 0);
        bar.measureNow();
        QTRY_COMPARE(evicted.count(), 1);
        QVERIFY2(evicted.first().first().toString().startsWith(QStringLiteral("evicted ")), qPrintable(evicted.first().first().toString()));
        QVERIFY(evicted.first().first().toString().contains(QStringLiteral("gc")));
        QTRY_VERIFY(bar.usage().usedBytes <= (4 << 20) * 9 / 10);
        QVERIFY(bar.toolTip().contains(QStringLiteral("max-size 4.0 MiB")));
        bar.measureNow();
        QTest::qWait(300); // a look without news reports nothing more
        QCOMPARE(evicted.count(), 1);
    }

    void preferencesEditTheBudget()
    {
        CacheSettings shown;
        shown.maxSize = qint64(20) << 30;
        SettingsDialog dialog(AppSettings{}, shown);
        auto edits = dialog.findChildren<QLineEdit *>();
        QLineEdit *max = nullptr, *floor = nullptr;
        for (QLineEdit *e : edits) {
            if (e->text() == u"20G")
                max = e;
            else if (e->text() == u"1G")
                floor = e;
        }
        QVERIFY2(max && floor, "the budget fields show max-size and min-free-space as one types them");
        if (qEnvironmentVariableIsSet("SPARSESCOPE_SAVE_GRABS"))
            dialog.grab().save(qEnvironmentVariable("SPARSESCOPE_SAVE_GRABS") + QStringLiteral("/preferences.png"));
        // A value it cannot read keeps the dialog open and says why.
        max->setText(QStringLiteral("12Q"));
        QTimer::singleShot(0, [] {
            for (QWidget *w : QApplication::topLevelWidgets())
                if (auto *box = qobject_cast<QMessageBox *>(w)) {
                    QVERIFY(box->text().contains(QStringLiteral("max-size")));
                    box->accept();
                }
        });
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Rejected));
        max->setText(QStringLiteral("256M"));
        floor->setText(QString());
        dialog.accept();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(dialog.cacheSettings().maxSize, std::optional<qint64>(qint64(256) << 20));
        QCOMPARE(dialog.cacheSettings().minFreeSpace, 0);
    }
};

QTEST_MAIN(TestCacheUsageBar)
#include "tst_cacheusagebar.moc"
